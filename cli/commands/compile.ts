/** `bentoc compile [entry] [--out DIR] [--watch] [--no-typecheck] [--format text|json]`; the entry defaults to the project in the current directory. */

import { statSync } from "node:fs";
import { relative, resolve } from "node:path";
import type { Command } from "commander";
import type { CompileResult } from "../../compiler/compile.ts";

interface CompileFlags {
  out?: string;
  watch?: boolean;
  typecheck: boolean;
  format: "text" | "json";
}

export function summaryLine(result: CompileResult, cwd: string): string {
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const ms = Math.round(result.ms);
  if (!result.manifest) return `✗ ${errors} error${errors === 1 ? "" : "s"}, nothing emitted (in ${ms} ms)`;
  const m = result.manifest;
  const out = relative(cwd, result.outDir) || ".";
  return `✓ compiled ${m.service.name} (${plural(m.service.apis.length, "API")}, ${plural(m.runners.length, "runner")}) → ${out}/ in ${ms} ms (${result.written.length} of ${result.files.length} files changed)`;
}

async function report(result: CompileResult, flags: CompileFlags, cwd: string): Promise<void> {
  const { formatDiagnostics, formatDiagnosticsJson } = await import("../../compiler/diagnostics/format.ts");
  if (flags.format === "json") {
    process.stdout.write(
      `${JSON.stringify({
        ok: result.manifest !== null,
        outDir: relative(cwd, result.outDir),
        files: result.files,
        diagnostics: JSON.parse(formatDiagnosticsJson(result.diagnostics, cwd)),
        ms: Math.round(result.ms),
      })}\n`,
    );
    return;
  }
  if (result.diagnostics.length) process.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd, color: process.stderr.isTTY === true })}\n`);
  process.stdout.write(`${summaryLine(result, cwd)}\n`);
}

export function register(program: Command): void {
  program
    .command("compile")
    .description("Compile a service: bento.json, openapi.json, typed client, Kubernetes YAML, Containerfile, bundle")
    .argument("[entry]", "service file or project directory (its bentofile's service, else service.ts, index.ts or src/service.ts)", ".")
    .option("-o, --out <dir>", "output directory (default: .bentoc/ in the project directory, or beside a service file)")
    .option("-w, --watch", "recompile on change, printing only diagnostics and a summary line")
    .option("--no-typecheck", "skip the TypeScript checker's diagnostics for the service program")
    .option("--format <format>", "diagnostics format: text or json", "text")
    .action(async (entryArg: string, flags: CompileFlags) => {
      const [{ compile, createCompileSession, defaultOutDir }, { projectEntry }, { readModelCatalogue }, { defaultHome }] = await Promise.all([
        import("../../compiler/compile.ts"),
        import("../../bento/project-entry.ts"),
        import("../model-catalogue.ts"),
        import("../../runtime/models/model-store.ts"),
      ]);
      const cwd = process.cwd();
      const arg = resolve(entryArg);
      // a project directory compiles its bentofile's service into <dir>/.bentoc/
      const isDir = statSync(arg, { throwIfNoEntry: false })?.isDirectory() ?? false;
      let entry = arg;
      try {
        entry = (isDir ? await projectEntry(arg) : undefined) ?? arg;
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const outDir = flags.out ? resolve(flags.out) : defaultOutDir(arg);
      // the store's listing (not the store itself: a compile never needs it) for the model checks
      const options = { entry, outDir, typecheck: flags.typecheck, models: await readModelCatalogue(defaultHome(), "warning") };
      if (!flags.watch) {
        const result = await compile(options);
        await report(result, flags, cwd);
        process.exitCode = result.manifest ? 0 : 1;
        return;
      }
      const session = createCompileSession(options);
      let result = await session.compile();
      await report(result, flags, cwd);
      const { watchFiles } = await import("../watch-files.ts");
      const watcher = watchFiles(
        () => result.sourceFiles,
        outDir,
        async (changed) => {
          result = await session.compile(changed);
          await report(result, flags, cwd);
        },
      );
      const stop = () => void watcher.close().then(() => process.exit(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
