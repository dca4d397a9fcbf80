/**
 * A throw-away copy of the support-tickets sample inside the repository (under the git-ignored `.bentoc/`,
 * so `bentoc` and its dependencies resolve from the repo's node_modules), and a model store holding the
 * tiny variant of its model.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SAMPLE = join(ROOT, "samples", "support-tickets");
/** The built CLI (vitest's global setup builds dist/ first). */
export const CLI = join(ROOT, "dist", "cli", "bentoc.js");

export function copySample(): { dir: string; cleanup(): void } {
  mkdirSync(join(ROOT, ".bentoc"), { recursive: true });
  const dir = mkdtempSync(join(ROOT, ".bentoc", "bento-test-"));
  cpSync(join(SAMPLE, "service.ts"), join(dir, "service.ts"));
  cpSync(join(SAMPLE, "bentofile.yaml"), join(dir, "bentofile.yaml"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh BENTOC_HOME with the tiny support-tickets model prepared by scripts/prepare-models.ts. */
export function homeWithModel(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), "bentoc-home-"));
  execFileSync(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), join(ROOT, "scripts", "prepare-models.ts"), "--variant", "tiny", "--only", "support-tickets", "--home", home], {
    stdio: "pipe",
    env: { ...process.env, BENTOC_HOME: home },
  });
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** Runs the bentoc CLI; returns stdout, stderr and the exit code. */
export function bentoc(args: string[], env: Record<string, string>, cwd = ROOT): { stdout: string; stderr: string; code: number } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: "pipe", encoding: "utf8" });
    return { stdout, stderr: "", code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; status?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: e.status ?? 1 };
  }
}
