/**
 * Building the ts-morph Project for an entry: the entry file (or a directory's `service.ts` / `index.ts`),
 * the nearest tsconfig.json above it for compiler options (strict defaults when there is none) and the
 * project root (nearest directory with a package.json). Only the entry and what it imports are loaded,
 * never the tsconfig's whole `include`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { CompilerOptions } from "ts-morph";
import { candidateEntry, ENTRY_CANDIDATES } from "../bento/project-entry.ts";
import { bentocRoot, bentocVersion } from "../contract/package-root.ts";
import { Project, ts } from "./ts-morph.ts";

export type EntryResolution = { ok: true; file: string } | { ok: false; entry: string; detail: string };

export { ENTRY_CANDIDATES } from "../bento/project-entry.ts";

export function resolveEntry(entry: string): EntryResolution {
  const abs = resolve(entry);
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (!stat) return { ok: false, entry: abs, detail: "" };
  if (stat.isFile()) return { ok: true, file: abs };
  const file = candidateEntry(abs);
  if (file) return { ok: true, file };
  return { ok: false, entry: abs, detail: ` (the directory has no ${ENTRY_CANDIDATES.join(", ")})` };
}

/** Nearest ancestor directory (including `from`) holding `name`, or undefined. */
export function findUp(from: string, name: string, exists: (path: string) => boolean = existsSync): string | undefined {
  let dir = from;
  for (;;) {
    if (exists(join(dir, name))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Nearest directory with a package.json above the entry file; the entry's directory when there is none. */
export function findProjectRoot(entryFile: string): string {
  return findUp(dirname(entryFile), "package.json") ?? dirname(entryFile);
}

/** Used when no tsconfig.json is found: what a new strict ESM project would have. */
export const DEFAULT_COMPILER_OPTIONS: CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2023.d.ts"],
  strict: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  resolveJsonModule: true,
  types: [],
};

/** Always applied: the compiler never emits through tsc and does not check libraries' declarations. */
const FORCED_OPTIONS: CompilerOptions = { noEmit: true, skipLibCheck: true, declaration: false, sourceMap: false };

const BROWSER_LIBS = /^lib\.(dom|webworker)[.a-z]*\.d\.ts$/i;

/**
 * A service runs on Node: when Node's types are in play, the browser libs (DOM, WebWorker) are dropped
 * from `lib`. They are the largest part of a program, and Node's types declare the web globals a server
 * uses (fetch, Blob, AbortSignal, URL, TextEncoder).
 */
export function serverLibs(options: CompilerOptions): CompilerOptions {
  const usesNode = options.types === undefined || options.types.includes("node");
  if (!usesNode || !options.lib) return options;
  return { ...options, lib: options.lib.filter((l) => !BROWSER_LIBS.test(l)) };
}

/**
 * The Project of an entry. Only the entry is added: the files it imports are in the TypeScript program
 * (ts-morph wraps them on demand), so no time is spent wrapping hundreds of declaration files.
 */
export function createProjectForEntry(entryFile: string): Project {
  const configDir = findUp(dirname(entryFile), "tsconfig.json");
  let project: Project;
  const configOptions = configDir ? readTsconfigOptions(resolve(configDir, "tsconfig.json")) : undefined;
  if (configOptions) {
    project = new Project({ compilerOptions: serverLibs({ ...configOptions, ...FORCED_OPTIONS }) });
  } else if (configDir) {
    // a tsconfig.json that is not JSON: ts-morph reports it as it always did
    project = new Project({ tsConfigFilePath: join(configDir, "tsconfig.json"), skipAddingFilesFromTsConfig: true, compilerOptions: FORCED_OPTIONS });
  } else {
    project = new Project({ compilerOptions: withNodeTypes({ ...DEFAULT_COMPILER_OPTIONS, ...FORCED_OPTIONS }, entryFile) });
  }
  parseWithoutJsDoc(project, NODE_DECLARATIONS);
  project.addSourceFileAtPath(entryFile);
  return project;
}

/**
 * The compiler options of a tsconfig.json (`extends` followed), or undefined when it is not JSON. The
 * files its `include` matches are not listed (ts-morph's tsConfigFilePath lists them even with
 * skipAddingFilesFromTsConfig: ~25 ms for this repository's tsconfig): the compiler loads only the entry
 * and its imports.
 */
export function readTsconfigOptions(configFile: string): CompilerOptions | undefined {
  const read = ts.readConfigFile(configFile, ts.sys.readFile);
  if (read.error) return undefined;
  const host: ts.ParseConfigHost = {
    useCaseSensitiveFileNames: ts.sys.useCaseSensitiveFileNames,
    readDirectory: () => [],
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
  };
  return ts.parseJsonConfigFileContent(read.config, host, dirname(configFile), undefined, configFile).options;
}

/**
 * Node's declarations (`@types/node` and the `undici-types` it uses): about 2 MB, most of it JSDoc. The
 * compiler never reads their documentation, and the checker does not use JSDoc in TypeScript files (tsc
 * itself skips most of it), so they are parsed without it: same program, same diagnostics, and about
 * 75 ms (7%) less for the program and checker of samples/support-tickets.
 */
const NODE_DECLARATIONS = /\/node_modules\/(?:@types\/node|undici-types)\/.*\.d\.[mc]?ts$/;

interface DocumentRegistryLike {
  createOrUpdateSourceFile(fileName: string, settings: CompilerOptions, snapshot: ts.IScriptSnapshot, scriptKind?: ts.ScriptKind): ts.SourceFile;
}

/**
 * Makes the Project parse the files matching `files` with `JSDocParsingMode.ParseNone`. ts-morph has no
 * option for it, so this wraps its document registry (where every file of the program is parsed), exactly
 * as ts-morph would create the file but for the JSDoc mode. Without that internal (another ts-morph
 * version), files are parsed as usual; test/unit/compiler/program.test.ts notices.
 */
export function parseWithoutJsDoc(project: Project, files: RegExp): void {
  const context = (project as unknown as { _context?: { compilerFactory?: { documentRegistry?: DocumentRegistryLike } } })._context;
  const registry = context?.compilerFactory?.documentRegistry;
  if (typeof registry?.createOrUpdateSourceFile !== "function") return;
  const original = registry.createOrUpdateSourceFile.bind(registry);
  const versions = new Map<string, number>();
  registry.createOrUpdateSourceFile = (fileName, settings, snapshot, scriptKind) => {
    if (!files.test(fileName)) return original(fileName, settings, snapshot, scriptKind);
    const version = versions.has(fileName) ? versions.get(fileName)! + 1 : 0;
    versions.set(fileName, version);
    const options = { languageVersion: settings.target ?? ts.ScriptTarget.Latest, jsDocParsingMode: ts.JSDocParsingMode.ParseNone };
    return ts.createLanguageServiceSourceFile(fileName, snapshot, options, String(version), true, scriptKind);
  };
}

function withNodeTypes(options: CompilerOptions, entryFile: string): CompilerOptions {
  const root = findUp(dirname(entryFile), join("node_modules", "@types", "node"));
  return root ? { ...options, types: ["node"] } : options;
}

/** Files outside node_modules and not TypeScript's own lib files: the user's program. */
export function isLocalFile(fileName: string): boolean {
  return !fileName.includes("/node_modules/");
}

// ---- in-memory projects (unit tests, playgrounds) ----

/** The sdk's TypeScript sources: the in-memory project is for the repository's tests, which run from sources. */
const sdkDir = (): string => join(bentocRoot(), "sdk");
const SDK_FILES = ["index.ts", "decorators.ts", "io.ts", "types.ts", "manifest.ts", "errors.ts"] as const;

/** Where the in-memory project keeps the bentoc package; sources under it import "bentoc" by self-reference. */
export const MEMORY_ROOT = "/repo";

/**
 * A Project on an in-memory file system holding this repo's sdk as the package `bentoc` at MEMORY_ROOT
 * (plus reflect-metadata's declarations). Add sources under `/repo/src/` and they import "bentoc".
 */
export function createInMemoryProject(): Project {
  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: { ...DEFAULT_COMPILER_OPTIONS, ...FORCED_OPTIONS, lib: ["lib.es2023.d.ts", "lib.dom.d.ts"] },
  });
  const fs = project.getFileSystem();
  fs.writeFileSync(
    `${MEMORY_ROOT}/package.json`,
    JSON.stringify({ name: "bentoc", version: bentocVersion(), type: "module", exports: { ".": { types: "./sdk/index.ts", default: "./sdk/index.ts" } } }),
  );
  for (const name of SDK_FILES) project.createSourceFile(`${MEMORY_ROOT}/sdk/${name}`, readFileSync(join(sdkDir(), name), "utf8"));
  const reflect = join(bentocRoot(), "node_modules", "reflect-metadata");
  fs.writeFileSync(`${MEMORY_ROOT}/node_modules/reflect-metadata/package.json`, readFileSync(join(reflect, "package.json"), "utf8"));
  fs.writeFileSync(`${MEMORY_ROOT}/node_modules/reflect-metadata/index.d.ts`, readFileSync(join(reflect, "index.d.ts"), "utf8"));
  return project;
}

/** The version of this bentoc package (goes into `manifest.compiler`). */
export { bentocVersion } from "../contract/package-root.ts";
