/**
 * `compile`: the whole pipeline — analyse (discover → analyze → validate) and, when there are no errors,
 * emit every output from the manifest and write them. `createCompileSession` keeps the analysis session
 * alive for `--watch`, so a one-line edit re-checks only what changed.
 */

import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUNDLE_FILE } from "../contract/output-files.ts";
import type { Manifest } from "../sdk/manifest.ts";
import { type AnalysisResult, analyzeEntry, createAnalysisSession } from "./analyze-entry.ts";
import type { Diagnostic } from "./diagnostics/diagnostic.ts";
import { type BundleResult, bundleService } from "./emit/bundle.ts";
import { type EmitOptions, emitFromManifest } from "./emit/emit-all.ts";
import { writeOutputs } from "./emit/write-outputs.ts";
import type { ModelCatalogue } from "./model-catalogue.ts";
import { findProjectRoot, resolveEntry } from "./program.ts";

export interface CompileOptions {
  entry: string;
  /** Default: `.bentoc/` beside the service. */
  outDir?: string;
  typecheck?: boolean;
  /** Skip the esbuild bundle (snapshots compare everything but the bundle). */
  bundle?: boolean;
  emit?: EmitOptions;
  /** The local model store's listing (the CLI passes it); without it the model checks are skipped. */
  models?: ModelCatalogue | undefined;
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

/**
 * Starts esbuild (its own process) before the analysis, so bundling overlaps with type-checking; the
 * result is used only when the analysis succeeds.
 */
function startBundle(options: CompileOptions): Promise<BundleResult> | undefined {
  if (options.bundle === false) return undefined;
  const entry = resolveEntry(options.entry);
  if (!entry.ok) return undefined;
  const bundle = bundleService({ entryFile: entry.file, projectRoot: findProjectRoot(entry.file), bundleName: BUNDLE_FILE });
  bundle.catch(() => {}); // awaited (and reported) later; never an unhandled rejection meanwhile
  return bundle;
}

async function emitAndWrite(
  analysis: AnalysisResult,
  bundle: Promise<BundleResult> | undefined,
  options: CompileOptions,
  started: number,
): Promise<CompileResult> {
  const outDir = options.outDir ?? defaultOutDir(options.entry);
  const base = { outDir, sourceFiles: analysis.sourceFiles };
  const failed = (diagnostics: Diagnostic[]): CompileResult => ({
    ...base,
    diagnostics,
    manifest: null,
    files: [],
    written: [],
    ms: performance.now() - started,
  });
  if (!analysis.manifest || analysis.diagnostics.some((d) => d.severity === "error")) return failed(analysis.diagnostics);
  const manifest = analysis.manifest;
  const files = emitFromManifest(manifest, options.emit ?? {});
  if (bundle) {
    const bundled = await bundle;
    if (bundled.diagnostics.length) return failed([...analysis.diagnostics, ...bundled.diagnostics]);
    Object.assign(files, bundled.files);
  }
  const written = await writeOutputs(outDir, files);
  return { ...base, diagnostics: analysis.diagnostics, manifest, files: Object.keys(files).sort(), written, ms: performance.now() - started };
}

export async function compile(options: CompileOptions): Promise<CompileResult> {
  const started = performance.now();
  const bundle = startBundle(options);
  const analysis = await analyzeEntry({ entry: options.entry, typecheck: options.typecheck ?? true, models: options.models });
  return emitAndWrite(analysis, bundle, options, started);
}

export interface CompileSession {
  compile(changedFiles?: string[]): Promise<CompileResult>;
}

export function createCompileSession(options: CompileOptions): CompileSession {
  const session = createAnalysisSession({ entry: options.entry, typecheck: options.typecheck ?? true, models: options.models });
  return {
    async compile(changedFiles) {
      const started = performance.now();
      const bundle = startBundle(options);
      const analysis = await session.analyze(changedFiles);
      return emitAndWrite(analysis, bundle, options, started);
    },
  };
}
