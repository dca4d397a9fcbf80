/**
 * The stage driver: entry → Project → (typecheck) → discover → analyze → validate → Manifest, collecting
 * diagnostics instead of throwing. `createAnalysisSession` keeps the Project between runs for `--watch`:
 * only changed files are re-read, and TypeScript reuses the rest of the previous program.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Project, SourceFile, ts } from "ts-morph";
import type { Manifest } from "../sdk/manifest.ts";
import { buildManifest } from "./analyze/build-manifest.ts";
import { decoratorModeDiagnostics, LEGACY_DECORATOR_ERRORS } from "./decorator-mode.ts";
import { createDiagnostic, type Diagnostic, fromTsDiagnostic, hasErrors, sortDiagnostics } from "./diagnostics/diagnostic.ts";
import { discover } from "./discover/discover.ts";
import { SdkSymbols } from "./discover/sdk-symbols.ts";
import type { ModelCatalogue } from "./model-catalogue.ts";
import { bentocVersion, createProjectForEntry, findProjectRoot, isLocalFile, resolveEntry } from "./program.ts";
import { TypecheckCache } from "./typecheck-cache.ts";
import { validate } from "./validate/validate.ts";

export interface AnalysisResult {
  /** Null when any error was reported. */
  manifest: Manifest | null;
  diagnostics: Diagnostic[];
  entryFile: string;
  projectRoot: string;
  /** Local (non-node_modules) files of the program, absolute, sorted: what `--watch` watches. */
  sourceFiles: string[];
}

export interface AnalyzeOptions {
  entry: string;
  /** Report the TypeScript checker's diagnostics for the user's files (default true). */
  typecheck?: boolean;
  /** The local model store's listing, for the model checks (BC2003/BC1026, BC1027); none: skipped. */
  models?: ModelCatalogue | undefined;
}

export interface AnalyzeProjectOptions {
  project: Project;
  entryFile: string;
  projectRoot: string;
  typecheck: boolean;
  models?: ModelCatalogue | undefined;
  /** Kept between the runs of a session: user files whose diagnostics cannot have changed are not checked again. */
  typecheckCache?: TypecheckCache | undefined;
}

/** The user's own files: reachable from the entry through imports (static or dynamic), outside node_modules and the sdk. */
export function userFiles(entry: SourceFile, sdk: SdkSymbols): SourceFile[] {
  const seen = new Set<SourceFile>([entry]);
  const queue = [entry];
  for (let sf = queue.pop(); sf; sf = queue.pop()) {
    for (const next of sf.getReferencedSourceFiles()) {
      const name = next.getFilePath();
      if (seen.has(next) || next.isDeclarationFile() || !isLocalFile(name) || sdk.isSdkPackageFile(name)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return [...seen].sort((a, b) => (a === entry ? -1 : b === entry ? 1 : a.getFilePath().localeCompare(b.getFilePath())));
}

function typecheckDiagnostics(program: ts.Program, files: readonly SourceFile[], cache: TypecheckCache | undefined): Diagnostic[] {
  const check = (raw: ts.SourceFile): Diagnostic[] => {
    const syntactic = program.getSyntacticDiagnostics(raw);
    return syntactic.length > 0 ? syntactic.map(fromTsDiagnostic) : program.getSemanticDiagnostics(raw).map(fromTsDiagnostic);
  };
  const out: Diagnostic[] = program.getOptionsDiagnostics().map(fromTsDiagnostic);
  out.push(...(cache ? cache.diagnostics(program, files, check) : files.flatMap((f) => check(f.compilerNode))));
  return out;
}

function localSourceFiles(program: ts.Program): string[] {
  return program
    .getSourceFiles()
    .map((sf) => sf.fileName)
    .filter((f) => isLocalFile(f) && !program.isSourceFileDefaultLibrary(program.getSourceFile(f)!))
    .sort();
}

/** Run every stage over a ready Project (also used by unit tests with an in-memory Project). */
export function analyzeProject(o: AnalyzeProjectOptions): AnalysisResult {
  const program = o.project.getProgram().compilerObject;
  const base = { entryFile: o.entryFile, projectRoot: o.projectRoot, sourceFiles: localSourceFiles(program) };
  const entry = o.project.getSourceFile(o.entryFile);
  if (!entry) return { ...base, manifest: null, diagnostics: [createDiagnostic("BC1015", { entry: o.entryFile, detail: "" })] };
  const sdk = SdkSymbols.forProject(o.project);
  const files = userFiles(entry, sdk);
  const decoratorMode = decoratorModeDiagnostics(o.project.getCompilerOptions());
  const checked = o.typecheck ? typecheckDiagnostics(program, files, o.typecheckCache) : [];
  // with legacy decorators on, the TS12xx signature errors are BC1021's consequence, not separate mistakes
  const diagnostics: Diagnostic[] = [...decoratorMode, ...(decoratorMode.length > 0 ? checked.filter((d) => !LEGACY_DECORATOR_ERRORS.has(d.code)) : checked)];
  const found = discover(files, sdk);
  diagnostics.push(...found.diagnostics);
  const built = buildManifest({
    discovery: found.discovery,
    sdk,
    program,
    entryFile: o.entryFile,
    projectRoot: o.projectRoot,
    compilerVersion: bentocVersion(),
  });
  diagnostics.push(...built.diagnostics);
  diagnostics.push(...validate({ discovery: found.discovery, analysis: built.analysis, entryFile: o.entryFile, sdk, models: o.models }));
  const sorted = sortDiagnostics(dedupe(diagnostics));
  const manifest = built.analysis && !hasErrors(sorted) ? built.analysis.manifest : null;
  return { ...base, manifest, diagnostics: sorted };
}

function dedupe(diags: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diags.filter((d) => {
    const key = `${d.code}|${d.file}|${d.line}|${d.column}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function entryNotFound(entry: string, detail: string): AnalysisResult {
  const abs = resolve(entry);
  return {
    manifest: null,
    diagnostics: [createDiagnostic("BC1015", { entry: abs, detail })],
    entryFile: abs,
    projectRoot: findProjectRoot(abs),
    sourceFiles: [],
  };
}

export async function analyzeEntry(options: AnalyzeOptions): Promise<AnalysisResult> {
  return createAnalysisSession(options).analyze();
}

export interface AnalysisSession {
  /** Analyse again; `changedFiles` (absolute) are re-read from disk, everything else is reused. */
  analyze(changedFiles?: readonly string[]): Promise<AnalysisResult>;
}

export function createAnalysisSession(options: AnalyzeOptions): AnalysisSession {
  const typecheck = options.typecheck ?? true;
  let state: { project: Project; entryFile: string; projectRoot: string; typecheckCache: TypecheckCache } | undefined;

  function refresh(project: Project, changed: readonly string[]): void {
    for (const path of changed.map((p) => resolve(p))) {
      const sf = project.getSourceFile(path);
      if (sf) sf.refreshFromFileSystemSync();
      else if (existsSync(path) && /\.[mc]?tsx?$/.test(path)) project.addSourceFileAtPathIfExists(path);
    }
    project.resolveSourceFileDependencies();
  }

  return {
    async analyze(changedFiles) {
      const resolved = resolveEntry(options.entry);
      if (!resolved.ok) {
        state = undefined;
        return entryNotFound(resolved.entry, resolved.detail);
      }
      const configChanged = changedFiles?.some((f) => /(?:^|[\\/])(?:tsconfig[^\\/]*|package)\.json$/.test(f)) ?? false;
      if (!state || state.entryFile !== resolved.file || configChanged) {
        state = {
          project: createProjectForEntry(resolved.file),
          entryFile: resolved.file,
          projectRoot: findProjectRoot(resolved.file),
          typecheckCache: new TypecheckCache(),
        };
      } else {
        const changed =
          changedFiles ??
          state.project
            .getSourceFiles()
            .map((sf) => sf.getFilePath() as string)
            .filter(isLocalFile);
        refresh(state.project, changed);
      }
      return analyzeProject({ ...state, typecheck, models: options.models });
    },
  };
}
