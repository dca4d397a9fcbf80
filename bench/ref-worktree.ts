/**
 * "Before" trees of the before/after benches: a git ref checked out into a temporary worktree of this
 * checkout, and removed again however the bench ended.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Checks `ref` out into `dir` (a detached worktree); returns its short commit. */
export function addRefWorktree(ref: string, dir: string): string {
  execFileSync("git", ["worktree", "add", "--detach", dir, ref], { cwd: root, stdio: "pipe" });
  return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
}

/**
 * Installs the worktree's own dependencies from its lock (`npm ci`, no install scripts: onnxruntime-node
 * and esbuild ship their binaries). Its own, not links to this checkout's: a dependency dropped since `ref`
 * would be missing from those.
 */
export function installNodeModules(dir: string): void {
  execFileSync("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: dir,
    stdio: "pipe",
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
}

/** Removes the worktree at `dir`, if it was added. */
export function removeRefWorktree(dir: string): void {
  try {
    execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: root, stdio: "pipe" });
  } catch {
    // never added, or already gone
  }
}
