#!/usr/bin/env bash
# Installs the Debian packages the end-to-end tests need (Chromium, Prometheus/promtool, buildah/podman,
# ImageMagick + a font for the OCR round trip, hey). Idempotent; needs root (CI runs as root).
set -euo pipefail
pkgs=(chromium prometheus buildah podman runc imagemagick fonts-dejavu-core hey)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-deps: all present (${pkgs[*]})"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ci-deps: missing ${missing[*]}; run as root: sudo bash scripts/ci-deps.sh" >&2
  exit 1
fi
echo "ci-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-deps: done"
