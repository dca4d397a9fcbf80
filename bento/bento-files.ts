/**
 * Which files of the build directory enter a bento. The bundle already holds the code, so only files the
 * service reads at run time are copied: those matching the bentofile's `include` globs, minus `exclude`,
 * minus the patterns of a `.bentoignore` (gitignore-like: one glob a line, `#` comments), minus what
 * never belongs in a bento (node_modules, .bentoc/, .git, tests, notebooks).
 */
import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { minimatch } from "minimatch";

export const ALWAYS_EXCLUDED = [
  "**/node_modules/**",
  "**/.bentoc/**",
  "**/.git/**",
  "**/test/**",
  "**/tests/**",
  "**/__tests__/**",
  "**/*.test.*",
  "**/*.spec.*",
  "**/*.ipynb",
  "**/.ipynb_checkpoints/**",
  "**/.DS_Store",
  "bentofile.yaml",
  ".bentoignore",
];

/** Patterns of a `.bentoignore`; a pattern without `/` matches at any depth, a trailing `/` means a directory. */
export function readBentoignore(dir: string): string[] {
  const file = join(dir, ".bentoignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .flatMap((p) => {
      const anchored = p.startsWith("/");
      let g = anchored ? p.slice(1) : p;
      const rooted0 = anchored || g.replace(/\/$/, "").includes("/");
      if (g.endsWith("/")) g = `${g}**`;
      const rooted = rooted0 ? [g] : [g, `**/${g}`];
      return rooted.flatMap((r) => (r.endsWith("/**") ? [r] : [r, `${r}/**`]));
    });
}

const match = (path: string, globs: readonly string[]) => globs.some((g) => minimatch(path, g, { dot: true }));

/** Sorted relative paths (`/`-separated) of the files under `dir` that the bento carries. */
export async function collectIncludedFiles(dir: string, include: readonly string[], exclude: readonly string[]): Promise<string[]> {
  if (include.length === 0) return [];
  const ignore = [...ALWAYS_EXCLUDED, ...exclude, ...readBentoignore(dir)];
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (match(`${p}/`, ignore) || match(`${p}/x`, ["**/node_modules/**", "**/.bentoc/**", "**/.git/**"])) continue;
        await walk(p);
      } else if (d.isFile() && match(p, include) && !match(p, ignore)) {
        out.push(p);
      }
    }
  };
  await walk("");
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
