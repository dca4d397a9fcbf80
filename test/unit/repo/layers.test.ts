/**
 * The layer rules, read from the import graph of the sources:
 * - the process that serves a bento (the API server, its workers, the runner workers and the runner server)
 *   reaches none of the build tooling (bento/), the load generator (loadtest/), the compiler or the CLI;
 * - nothing in runtime/ imports the compiler, the load generator or the CLI at all;
 * - the compiler and the runtime meet only in contract/ and sdk/ (neither imports the other's folders).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** Relative imports (static, re-exports and literal dynamic imports) of one source file, as repo paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(SPECIFIER)].map((m) =>
    normalize(join(dirname(file), m[1] as string))
      .split("\\")
      .join("/"),
  );
}

function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file) || !/\.(ts|mjs)$/.test(file)) continue;
    seen.add(file);
    todo.push(...importsOf(file));
  }
  return seen;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => relative(root, join(d.parentPath, d.name)).split("\\").join("/"));
}

const SERVING_ENTRIES = ["runtime/serve-compiled.ts", "runtime/server/api-worker.ts", "runtime/runners/worker-entry.ts", "runtime/remote/runner-server.ts"];

describe("layer rules", () => {
  it("the serving process reaches no build tooling, load generator, compiler or CLI", () => {
    const files = reachable(SERVING_ENTRIES);
    expect(files.size).toBeGreaterThan(30);
    const outside = [...files].filter((f) => /^(bento|loadtest|compiler|cli)\//.test(f));
    expect(outside).toEqual([]);
  });

  it("runtime/ imports neither the compiler, the load generator nor the CLI", () => {
    const hits = sourcesUnder("runtime").flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(compiler|loadtest|cli)\//.test(i))
        .map((i) => `${f} → ${i}`),
    );
    expect(hits).toEqual([]);
  });

  it("the compiler imports no runtime, build tooling or CLI code", () => {
    const hits = sourcesUnder("compiler").flatMap((f) =>
      importsOf(f)
        .filter((i) => /^(runtime|loadtest|cli)\//.test(i))
        .map((i) => `${f} → ${i}`),
    );
    expect(hits).toEqual([]);
  });
});
