/**
 * `compile`: the whole pipeline — analyse (discover → analyze → validate) and, when there are no errors,
 * emit every output from the manifest and write them. `createCompileSession` keeps the analysis session
 * alive for `--watch`, so a one-line edit re-checks only what changed.
 */
import { dirname, join } from "node:path";
import { statSync } from "node:fs";
import type { Manifest } from "../sdk/manifest.ts";
import { analyzeEntry, createAnalysisSession, type AnalysisResult } from "./analyze-entry.ts";
import type { Diagnostic } from "./diagnostics/diagnostic.ts";
import { bundleService } from "./emit/bundle.ts";
import { emitFromManifest, type EmitOptions } from "./emit/emit-all.ts";
import { writeOutputs } from "./emit/write-outputs.ts";

export interface CompileOptions {
  entry: string;
  /** Default: `.bentoc/` beside the service. */
  outDir?: string;
  typecheck?: boolean;
  /** Skip the esbuild bundle (snapshots compare everything but the bundle). */
  bundle?: boolean;
  emit?: EmitOptions;
}

export interface CompileResult {
  manifest: Manifest | null;
  diagnostics: Diagnostic[];
  outDir: string;
  /** Every file of the output, relative to outDir, sorted. */
  files: string[];
  /** Files whose bytes changed in this run. */
  written: string[];
  sourceFiles: string[];
  ms: number;
}

export function defaultOutDir(entry: string): string {
  const isDir = statSync(entry, { throwIfNoEntry: false })?.isDirectory() ?? false;
  return join(isDir ? entry : dirname(entry), ".bentoc");
}

async function emitAndWrite(analysis: AnalysisResult, options: CompileOptions, started: number): Promise<CompileResult> {
  const outDir = options.outDir ?? defaultOutDir(options.entry);
  const base = { diagnostics: analysis.diagnostics, outDir, sourceFiles: analysis.sourceFiles };
  if (!analysis.manifest || analysis.diagnostics.some((d) => d.severity === "error")) {
    return { ...base, manifest: null, files: [], written: [], ms: performance.now() - started };
  }
  const manifest = analysis.manifest;
  const files = emitFromManifest(manifest, options.emit ?? {});
  if (options.bundle !== false) {
    const bundle = await bundleService({
      entryFile: analysis.entryFile,
      projectRoot: analysis.projectRoot,
      bundleName: manifest.entry.bundle,
    });
    Object.assign(files, bundle.files);
  }
  const written = await writeOutputs(outDir, files);
  return { ...base, manifest, files: Object.keys(files).sort(), written, ms: performance.now() - started };
}

export async function compile(options: CompileOptions): Promise<CompileResult> {
  const started = performance.now();
  const analysis = await analyzeEntry({ entry: options.entry, typecheck: options.typecheck ?? true });
  return emitAndWrite(analysis, options, started);
}

export interface CompileSession {
  compile(changedFiles?: string[]): Promise<CompileResult>;
}

export function createCompileSession(options: CompileOptions): CompileSession {
  const session = createAnalysisSession({ entry: options.entry, typecheck: options.typecheck ?? true });
  return {
    async compile(changedFiles) {
      const started = performance.now();
      const analysis = await session.analyze(changedFiles);
      return emitAndWrite(analysis, options, started);
    },
  };
}
