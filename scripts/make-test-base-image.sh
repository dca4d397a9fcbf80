#!/usr/bin/env bash
# Builds a minimal local base image for the container tests, without any registry: `buildah from scratch`
# plus this host's node binary, the shared libraries it and the native addons need (ldd), the dynamic
# loader, npm, the CA bundle and a passwd/group with uid 10001. No shell: the generated Containerfile is
# exec-form only, so this image proves it. npm in it runs with `ignore-scripts` (its global npmrc) because
# lifecycle scripts need /bin/sh; the bento's dependencies work without them (prebuilt binaries).
#
#   bash scripts/make-test-base-image.sh [IMAGE]     (default localhost/bentoc-test-base:node20; idempotent)
set -euo pipefail

IMAGE="${1:-localhost/bentoc-test-base:node20}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "make-test-base-image: $IMAGE exists"
  exit 0
fi

NODE="$(readlink -f "$(command -v node)")"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"   # …/node_modules/npm
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { echo "make-test-base-image: npm-cli.js not found under $NPM_DIR" >&2; exit 1; }
CA=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA" ] || { echo "make-test-base-image: $CA is missing (apt-get install ca-certificates)" >&2; exit 1; }

# Every shared object node and the native addons of the runtime load, plus the loader itself.
objects=("$NODE")
for f in "$ROOT"/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/*.so* "$ROOT"/node_modules/uWebSockets.js/uws_linux_x64_*.node "$ROOT"/node_modules/uWebSockets.js/binaries/uws_linux_x64_*.node; do
  [ -e "$f" ] && objects+=("$f")
done
mapfile -t libs < <(for o in "${objects[@]}"; do ldd "$o" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'; done | sort -u)

work="$(mktemp -d)"
ctr=""
cleanup() {
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/etc" "$work/tmp" "$work/root" "$work/usr/local/bin" "$work/usr/local/etc" "$work/usr/local/lib/node_modules"
cat >"$work/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/nonexistent
bento:x:10001:10001:bento:/tmp:/nonexistent
nobody:x:65534:65534:nobody:/nonexistent:/nonexistent
EOF
cat >"$work/etc/group" <<'EOF'
root:x:0:
bento:x:10001:
nogroup:x:65534:
EOF
printf 'ignore-scripts=true\nfund=false\naudit=false\nupdate-notifier=false\n' >"$work/usr/local/etc/npmrc"
for lib in "${libs[@]}"; do
  mkdir -p "$work$(dirname "$lib")"
  cp -L "$lib" "$work$lib"     # the real file under the path the loader asks for
done
cp -L "$NODE" "$work/usr/local/bin/node"
cp -a "$NPM_DIR" "$work/usr/local/lib/node_modules/npm"
mkdir -p "$work$(dirname "$CA")"
cp -L "$CA" "$work$CA"
chmod 1777 "$work/tmp"

ctr="$(buildah from scratch)"
buildah copy --quiet "$ctr" "$work" / >/dev/null
buildah config \
  --env PATH=/usr/local/bin:/usr/bin:/bin \
  --env NODE_EXTRA_CA_CERTS="$CA" \
  --env SSL_CERT_FILE="$CA" \
  --workingdir / \
  --cmd '["node"]' \
  --label org.opencontainers.image.description="bentoc test base: host node $(node --version), no shell" \
  "$ctr"
buildah commit --quiet "$ctr" "$IMAGE" >/dev/null
echo "make-test-base-image: built $IMAGE (node $(node --version), ${#libs[@]} libraries)"
