/**
 * The esbuild bundle of the service: one ESM file (`service.mjs`) plus its source map. Everything the
 * service imports is bundled (the sdk, pure-JS libraries) except packages with native code, which the
 * runtime provides. Paths in the output are relative to the project root, so the bytes are stable.
 */

import { isAbsolute, join } from "node:path";
import { type BuildResult, build, type Message } from "esbuild";
import type { Diagnostic } from "../diagnostics/diagnostic.ts";
import { createDiagnostic } from "../diagnostics/diagnostic.ts";

/** Packages that carry native code or are provided by the runtime; never bundled. */
export const RUNTIME_EXTERNALS = ["onnxruntime-node", "uWebSockets.js", "sharp"] as const;

export interface BundleOptions {
  /** Absolute path of the service entry file. */
  entryFile: string;
  /** Absolute path of the project root (esbuild's working dir, so paths in the output are relative). */
  projectRoot: string;
  /** Name of the bundle file, e.g. `service.mjs`. */
  bundleName: string;
  external?: readonly string[];
}

export interface BundleResult {
  files: Record<string, string>;
  /** esbuild errors as BC1020 diagnostics (empty on success). */
  diagnostics: Diagnostic[];
  /** Non-fatal messages from esbuild, already formatted. */
  warnings: string[];
}

function toDiagnostic(message: Message, projectRoot: string): Diagnostic {
  const diag = createDiagnostic("BC1020", { message: message.text });
  const loc = message.location;
  if (!loc) return diag;
  return {
    ...diag,
    file: isAbsolute(loc.file) ? loc.file : join(projectRoot, loc.file),
    line: loc.line,
    column: loc.column + 1,
    length: Math.max(1, loc.length),
  };
}

export async function bundleService(options: BundleOptions): Promise<BundleResult> {
  let result: BuildResult<{ write: false }>;
  try {
    result = await build({
      entryPoints: [options.entryFile],
      absWorkingDir: options.projectRoot,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: options.bundleName,
      write: false,
      sourcemap: "external",
      sourcesContent: true,
      legalComments: "eof",
      logLevel: "silent",
      external: [...RUNTIME_EXTERNALS, ...(options.external ?? [])],
      // CommonJS dependencies bundled into ESM may call require(); give them one.
      banner: {
        js: 'import { createRequire as __bentocCreateRequire } from "node:module"; const require = __bentocCreateRequire(import.meta.url);',
      },
    });
  } catch (err) {
    // esbuild's BuildFailure carries located messages: report them like the compiler's own
    const errors = (err as { errors?: Message[] }).errors;
    if (!errors?.length) throw err;
    return { files: {}, diagnostics: errors.map((m) => toDiagnostic(m, options.projectRoot)), warnings: [] };
  }
  const files: Record<string, string> = {};
  for (const out of result.outputFiles) {
    const name = out.path.endsWith(".map") ? `${options.bundleName}.map` : options.bundleName;
    files[name] = out.text;
  }
  return { files, diagnostics: [], warnings: result.warnings.map((w) => w.text) };
}
