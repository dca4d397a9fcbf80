/**
 * "Before" trees of the before/after benches: a git ref checked out into a temporary worktree of this
 * checkout, and removed again however the bench ended.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Checks `ref` out into `dir` (a detached worktree); returns its short commit. */
export function addRefWorktree(ref: string, dir: string): string {
  execFileSync("git", ["worktree", "add", "--detach", dir, ref], { cwd: root, stdio: "pipe" });
  return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: dir, encoding: "utf8" }).trim();
}

/** Gives the worktree at `dir` this checkout's packages: node_modules links each one (its own .cache). */
export function linkNodeModules(dir: string): void {
  mkdirSync(join(dir, "node_modules"));
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name !== ".cache") symlinkSync(join(root, "node_modules", name), join(dir, "node_modules", name));
  }
}

/** Removes the worktree at `dir`, if it was added. */
export function removeRefWorktree(dir: string): void {
  try {
    execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: root, stdio: "pipe" });
  } catch {
    // never added, or already gone
  }
}
