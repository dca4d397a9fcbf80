/**
 * Where this bentoc installation is. Code runs from two layouts: the TypeScript sources (the repository,
 * under vitest or tsx) and the compiled `dist/` (an installed package, or the repository after
 * `npm run build`). Paths such as `new URL("../package.json", import.meta.url)` differ between them, so
 * every file that needs the package goes through here: the root is the nearest directory above this file
 * whose package.json is named `bentoc`.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface BentocPackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  files?: string[];
  [key: string]: unknown;
}

/** True when this module is the `.ts` source (vitest, tsx), false when it runs from `dist/`. */
export const RUNNING_FROM_SOURCES = import.meta.url.endsWith(".ts");

let root: string | undefined;
let manifest: BentocPackageJson | undefined;

/** The nearest ancestor of `from` holding a package.json whose name is `bentoc`. */
export function findBentocRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "bentoc") return dir;
      } catch {
        // an unreadable package.json on the way up is not ours; keep walking
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The directory of the bentoc package this code belongs to (holds its package.json). */
export function bentocRoot(): string {
  root ??= findBentocRoot(dirname(fileURLToPath(import.meta.url)));
  if (!root) throw new Error(`bentoc: no package.json named "bentoc" above ${fileURLToPath(import.meta.url)}; the installation is incomplete`);
  return root;
}

/** bentoc's own package.json. */
export function bentocPackageJson(): BentocPackageJson {
  manifest ??= JSON.parse(readFileSync(join(bentocRoot(), "package.json"), "utf8")) as BentocPackageJson;
  return manifest;
}

/** The version of this bentoc (`manifest.compiler`, `bentoc --version`). */
export function bentocVersion(): string {
  return bentocPackageJson().version;
}
