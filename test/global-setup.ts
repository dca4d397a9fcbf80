/**
 * Vitest's global setup: builds dist/ (incremental, ~1 s when nothing changed) before any test runs, so
 * the tests that spawn the built CLI (`dist/cli/bentoc.js`), compile samples that import "bentoc" (which
 * resolves to dist/ by self-reference) or pack the package never see a stale build.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const script = fileURLToPath(new URL("../scripts/build.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [script], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status}):\n${result.stdout}${result.stderr}`);
}
