/**
 * A V8 code cache for the compiler's big CommonJS modules on Node 20, where `module.enableCompileCache()`
 * (Node ≥ 22.1) does not exist. TypeScript (9 MB) and ts-morph (4 MB) are compiled on every cold start:
 * about 0.25 s of `bentoc compile` on this machine. `requireWithCodeCache(file)` compiles such a file with
 * `vm.Script` and V8's cached data from a previous run, registers it in `require.cache` (so ts-morph's own
 * `require("./typescript")` gets it) and, when there was no usable cache, writes one at exit — after the
 * compile ran, so the functions compiled lazily during the run are in it too.
 *
 * Only the files given are loaded this way (a global require hook such as v8-compile-cache would also
 * compile every later module, without dynamic-import support). V8 checks the cached data against the
 * source and its own version and flags, and rejects a mismatch (then it is written again). The cache lives
 * in `$NODE_COMPILE_CACHE` (Node's own variable) or `<tmpdir>/node-compile-cache`, under `bentoc-v8/`;
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off, like Node's.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Script, constants as vmConstants } from "node:vm";

interface CjsModule {
  exports: unknown;
  filename: string;
  paths: string[];
  loaded: boolean;
}

interface ModuleStatics {
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
  _cache: Record<string, CjsModule>;
  new (id: string, parent?: unknown): CjsModule;
}

/** The cache directory, or undefined when the cache is off or cannot be used here. */
function cacheDir(): string | undefined {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"]) return undefined;
  // without this constant (Node < 20.12) a vm.Script cannot run the `import()` calls inside TypeScript
  if (vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER === undefined) return undefined;
  const base = process.env["NODE_COMPILE_CACHE"] || join(tmpdir(), "node-compile-cache");
  return join(base, "bentoc-v8", `${process.version}-${process.arch}`);
}

const pendingWrites: Array<() => void> = [];
let exitHookInstalled = false;

/** Writes the code caches still to be written (done at exit); returns how many were written. */
export function flushCodeCaches(): number {
  let written = 0;
  for (const write of pendingWrites.splice(0)) {
    try {
      write();
      written++;
    } catch {
      // a read-only or full temp directory only costs the next start its cache
    }
  }
  return written;
}

function writeAtExit(write: () => void): void {
  pendingWrites.push(write);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => void flushCodeCaches());
}

/**
 * `require(file)` for an absolute CommonJS file, compiled with a V8 code cache when one can be used.
 * Falls back to a plain `require` when the cache is off, and returns the cached module when it is loaded.
 */
export function requireWithCodeCache(file: string): unknown {
  const M = Module as unknown as ModuleStatics;
  const loaded = M._cache[file];
  if (loaded) return loaded.exports;
  const dir = cacheDir();
  if (!dir) return createRequire(file)(file);
  const source = readFileSync(file).toString("utf8");
  const stat = statSync(file);
  const key = createHash("sha256").update(`${file}\0${stat.size}\0${stat.mtimeMs}`).digest("hex").slice(0, 32);
  const cacheFile = join(dir, `${key}.bin`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(M.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (!cachedData || script.cachedDataRejected) {
    writeAtExit(() => {
      mkdirSync(dir, { recursive: true });
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    });
  }
  const mod = new M(file, undefined);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(dirname(file));
  M._cache[file] = mod;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: CjsModule, filename: string, dirname: string) => void;
  try {
    wrapper.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  } catch (err) {
    delete M._cache[file];
    throw err;
  }
  mod.loaded = true;
  return mod.exports;
}
