#!/usr/bin/env node
// Runs a Node script under another Node version from scripts/test-nodes.txt (installed into .cache/nodes/
// by scripts/install-test-nodes.sh): `node scripts/run-under-node.mjs 24.22.3 script.mjs args...`.
// `npm test` runs the node:http end-to-end project this way, so that backend is tested under the Node that
// users of Node 22+ run, its servers included (they are spawned with process.execPath).
// With CI=true a missing binary fails; elsewhere the current Node runs the script instead, and says so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [version, ...rest] = process.argv.slice(2);
if (!version || rest.length === 0) {
  console.error("usage: node scripts/run-under-node.mjs <version> <script> [args...]");
  process.exit(2);
}
const root = dirname(dirname(fileURLToPath(import.meta.url)));
let bin = join(root, ".cache/nodes", version, "bin/node");
if (!existsSync(bin)) {
  const hint = `Node ${version} is not installed at ${bin} (bash scripts/install-test-nodes.sh installs it)`;
  if (process.env.CI && process.env.CI !== "false") {
    console.error(`${hint}; CI must install it (scripts/ci-deps.sh does)`);
    process.exit(1);
  }
  console.warn(`${hint}; running under ${process.version} instead`);
  bin = process.execPath;
}
const r = spawnSync(bin, rest, { stdio: "inherit" });
process.exit(r.status ?? 1);
