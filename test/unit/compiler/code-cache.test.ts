/**
 * requireWithCodeCache (Node 20's code cache for ts-morph's big modules): the module it loads is the one
 * `require` then returns, a cache is written for it, and a later load accepts that cache (nothing to
 * write again). Node ≥ 22.1 uses module.enableCompileCache instead, but the loader works there too.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { flushCodeCaches, requireWithCodeCache } from "../../../compiler/code-cache.ts";

const DIR = resolve(import.meta.dirname, "../../.tmp", `code-cache-${process.pid}`);
const savedEnv = process.env["NODE_COMPILE_CACHE"];
afterAll(() => {
  if (savedEnv === undefined) delete process.env["NODE_COMPILE_CACHE"];
  else process.env["NODE_COMPILE_CACHE"] = savedEnv;
  rmSync(DIR, { recursive: true, force: true });
});

const moduleCache = (Module as unknown as { _cache: Record<string, unknown> })._cache;

describe("requireWithCodeCache", () => {
  it("loads a CommonJS file once, writes its cache, and accepts it on the next load", () => {
    mkdirSync(DIR, { recursive: true });
    const file = join(DIR, "lib.cjs");
    writeFileSync(
      file,
      'const path = require("node:path");\nexports.twice = (n) => 2 * n;\nexports.base = path.basename(__filename);\nexports.dynamic = () => import("node:os");\n',
    );
    process.env["NODE_COMPILE_CACHE"] = join(DIR, "cache");
    const lib = requireWithCodeCache(file) as { twice(n: number): number; base: string; dynamic(): Promise<{ EOL: string }> };
    expect(lib.twice(21)).toBe(42);
    expect(lib.base).toBe("lib.cjs");
    expect(createRequire(file)(file)).toBe(lib);
    expect(flushCodeCaches()).toBe(1);
    const written = readdirSync(join(DIR, "cache", "bentoc-v8", `${process.version}-${process.arch}`));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^[0-9a-f]{32}\.bin$/);

    delete moduleCache[file];
    const again = requireWithCodeCache(file) as typeof lib;
    expect(again).not.toBe(lib);
    expect(again.twice(4)).toBe(8);
    expect(flushCodeCaches()).toBe(0);
  });

  it("runs import() inside the module", async () => {
    const lib = requireWithCodeCache(join(DIR, "lib.cjs")) as { dynamic(): Promise<{ EOL: string }> };
    expect((await lib.dynamic()).EOL).toBe("\n");
  });

  it("is a plain require with NODE_DISABLE_COMPILE_CACHE", () => {
    const file = join(DIR, "plain.cjs");
    writeFileSync(file, "module.exports = { n: 7 };\n");
    process.env["NODE_DISABLE_COMPILE_CACHE"] = "1";
    try {
      expect(requireWithCodeCache(file)).toEqual({ n: 7 });
    } finally {
      delete process.env["NODE_DISABLE_COMPILE_CACHE"];
    }
    expect(flushCodeCaches()).toBe(0);
    expect(readdirSync(join(DIR, "cache", "bentoc-v8", `${process.version}-${process.arch}`))).toHaveLength(1);
  });
});
