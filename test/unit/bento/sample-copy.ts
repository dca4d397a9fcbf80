/**
 * A throw-away copy of the support-tickets sample inside the repository (under the git-ignored `.bentoc/`,
 * so `bentoc` and its dependencies resolve from the repo's node_modules), and a model store holding the
 * tiny variant of its models.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
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
  // the service's sources (service.ts and the modules it imports) and its bentofile
  for (const f of readdirSync(SAMPLE).filter((f) => f.endsWith(".ts") || f === "bentofile.yaml")) cpSync(join(SAMPLE, f), join(dir, f));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh BENTOC_HOME with the tiny support-tickets models (encoder and fitted classifier) prepared by scripts/prepare-models.ts. */
export function homeWithModel(): { home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), "bentoc-home-"));
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      join(ROOT, "scripts", "prepare-models.ts"),
      "--variant",
      "tiny",
      "--only",
      "support-tickets",
      "--home",
      home,
    ],
    {
      stdio: "pipe",
      env: { ...process.env, BENTOC_HOME: home },
    },
  );
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

/**
 * Runs the bentoc CLI asynchronously (a test worker blocked on a long command misses vitest's RPC
 * deadline); resolves with stdout, stderr and the exit code.
 */
export function runBentoc(args: string[], env: Record<string, string>, cwd = ROOT): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolveRun({ stdout, stderr, code: code ?? 1 }));
  });
}
