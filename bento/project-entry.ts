/**
 * The service of a project directory, the target `bentoc compile`, `serve` and `build` take when given a
 * directory or nothing: the `service` of its bentofile.yaml, else the first of ENTRY_CANDIDATES. Light on
 * purpose (no YAML parser unless there is a bentofile), since the compiler and the CLI both read it.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** Entry files looked for in a directory, in order (`bentoc init` writes `src/service.ts`). */
export const ENTRY_CANDIDATES = ["service.ts", "index.ts", "src/service.ts"] as const;

export const BENTOFILE = "bentofile.yaml";

/** The first entry candidate that is a file in `dir`, or undefined. */
export function candidateEntry(dir: string): string | undefined {
  const name = ENTRY_CANDIDATES.find((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.isFile());
  return name === undefined ? undefined : join(dir, name);
}

/**
 * The absolute service entry of project directory `dir`: its bentofile's `service` (the bentofile is
 * validated; a broken one throws BentofileError with positions), else a candidate, else undefined.
 */
export async function projectEntry(dir: string): Promise<string | undefined> {
  const abs = resolve(dir);
  if (existsSync(join(abs, BENTOFILE))) {
    const { loadBentofile } = await import("./bentofile.ts");
    return loadBentofile(join(abs, BENTOFILE)).service;
  }
  return candidateEntry(abs);
}
