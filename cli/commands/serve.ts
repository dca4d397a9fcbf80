/**
 * `bentoc serve [service source | project dir | compiled dir | bento tag] [--port] [--host] [--workers] [--reload] [--config]`
 * (the target defaults to the project in the current directory)
 * Source is compiled first (to `.bentoc/` beside it); `--reload` recompiles on change and swaps the
 * running service without dropping the port, keeping the last good version on compile errors.
 */

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { BENTOFILE, ENTRY_CANDIDATES, projectEntry } from "../../bento/project-entry.ts";
import type { CompileSession } from "../../compiler/compile.ts";
import { MANIFEST_FILE } from "../../contract/output-files.ts";
import { DEFAULT_API_PORT } from "../../contract/shared-defaults.ts";
import type { BentocConfig } from "../../runtime/config/config-types.ts";
import type { DeepPartial } from "../../runtime/config/load-config.ts";
import { findManifest } from "./config.ts";

interface ServeFlags {
  port?: string;
  host?: string;
  workers?: string;
  reload?: boolean;
  config?: string;
  typecheck: boolean;
  admin?: boolean;
  http?: string;
}

/** A source target's `outBase` is what its default output directory is derived from (compiler/compile.ts `defaultOutDir`). */
type Target = { kind: "compiled"; dir: string } | { kind: "source"; entry: string; outBase: string } | { kind: "bento"; dir: string };

async function resolveTarget(arg: string | undefined, home: string): Promise<Target> {
  const abs = resolve(arg ?? ".");
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (stat?.isDirectory() && existsSync(join(abs, MANIFEST_FILE))) return { kind: "compiled", dir: abs };
  if (stat?.isFile()) return { kind: "source", entry: abs, outBase: abs };
  // a project directory (the current one by default): its bentofile's service, or service.ts / index.ts / src/service.ts
  const entry = stat?.isDirectory() ? await projectEntry(abs) : undefined;
  if (entry) return { kind: "source", entry, outBase: abs };
  if (arg === undefined)
    throw new Error(`no service in ${abs}: give a target, or run where a ${BENTOFILE}, ${ENTRY_CANDIDATES.join(", ")} is (bentoc init writes one)`);
  // a bento tag: served only if every file is as built
  const { resolveVerifiedBento } = await import("../../bento/bento-store.ts");
  const dir = await resolveVerifiedBento(arg, home);
  if (dir) return { kind: "bento", dir };
  throw new Error(`${arg}: not a service file, a compiled directory (with bento.json) or a bento tag in ${home}/bentos`);
}

/** What serving a source target needs on top of the runtime: the compiler, its diagnostics, the watcher. */
async function loadSourceTools() {
  const [{ createCompileSession, defaultOutDir }, { formatDiagnostics }, { summaryLine }, { watchFiles }] = await Promise.all([
    import("../../compiler/compile.ts"),
    import("../../compiler/diagnostics/format.ts"),
    import("./compile.ts"),
    import("../watch-files.ts"),
  ]);
  return { createCompileSession, defaultOutDir, formatDiagnostics, summaryLine, watchFiles };
}
type SourceTools = Awaited<ReturnType<typeof loadSourceTools>>;

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("Serve a service (compiling it first when given source), a compiled directory or a bento tag")
    .argument("[target]", "service file or project dir (default: the current one), compiled dir (bento.json), or bento tag name[:version]")
    .option("-p, --port <port>", `port (default ${DEFAULT_API_PORT}, or BENTOC_PORT)`)
    .option("--host <host>", "address to bind (default 0.0.0.0)")
    .option("--workers <n>", "API workers sharing the port")
    .option("--reload", "recompile and swap on source change (source targets only)")
    .option("--config <file>", "bentoc.yaml (default: ./bentoc.yaml when present)")
    .option("--no-typecheck", "skip the TypeScript checker when compiling")
    .option("--admin", "enable /_bentoc/batching, used by `bentoc bench` to switch batching settings")
    .option("--http <backend>", "HTTP backend: auto (uWebSockets.js where it loads, else node:http), uws or node")
    .action(async (arg: string | undefined, flags: ServeFlags) => {
      // Heavy modules load only when the command runs, so `bentoc --help` stays fast; the compiler
      // (TypeScript, esbuild) and the file watcher only for a source target, never for a compiled dir or bento.
      const [{ ConfigError, loadConfig }, { serveCompiledDir }] = await Promise.all([
        import("../../runtime/config/load-config.ts"),
        import("../../runtime/serve-compiled.ts"),
      ]);
      const cwd = process.cwd();
      const overrides: DeepPartial<BentocConfig> = { server: {} };
      if (flags.port !== undefined) overrides.server!.port = Number(flags.port);
      if (flags.host !== undefined) overrides.server!.host = flags.host;
      if (flags.workers !== undefined) overrides.server!.workers = Number(flags.workers);
      if (flags.admin) overrides.server!.admin = true;
      if (flags.http !== undefined) overrides.server!.http = flags.http as BentocConfig["server"]["http"];
      const home = loadConfig({ file: null }).home;
      let target: Target;
      try {
        target = await resolveTarget(arg, home);
      } catch (err) {
        fail((err as Error).message);
      }
      let session: CompileSession | undefined;
      let sourceTools: SourceTools | undefined;
      let sourceFiles: string[] = [];
      let dir: string;
      if (target.kind === "source") {
        sourceTools = await loadSourceTools();
        const { createCompileSession, defaultOutDir, formatDiagnostics, summaryLine } = sourceTools;
        const { readModelCatalogue } = await import("../model-catalogue.ts");
        const outDir = defaultOutDir(target.outBase);
        session = createCompileSession({
          entry: target.entry,
          outDir,
          typecheck: flags.typecheck,
          models: await readModelCatalogue(home, "warning"),
        });
        const result = await session.compile();
        if (result.diagnostics.length) process.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd, color: process.stderr.isTTY === true })}\n`);
        if (!result.manifest) fail(summaryLine(result, cwd));
        process.stdout.write(`${summaryLine(result, cwd)}\n`);
        sourceFiles = result.sourceFiles;
        dir = outDir;
      } else {
        dir = target.dir;
      }
      let config: BentocConfig;
      try {
        config = loadConfig({ manifest: findManifest(dir), file: flags.config, overrides });
      } catch (err) {
        if (err instanceof ConfigError) fail(err.issues.map((i) => `${i.source}: ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n"));
        fail((err as Error).message);
      }
      let served: Awaited<ReturnType<typeof serveCompiledDir>>;
      try {
        served = await serveCompiledDir(dir, config);
      } catch (err) {
        fail((err as Error).message);
      }
      if (flags.reload) {
        if (!session || !sourceTools) fail("--reload needs a service source, not a compiled directory or bento");
        const { formatDiagnostics, summaryLine, watchFiles } = sourceTools;
        watchFiles(
          () => sourceFiles,
          dir,
          async (changed) => {
            const result = await session.compile(changed);
            sourceFiles = result.sourceFiles.length ? result.sourceFiles : sourceFiles;
            if (result.diagnostics.length) process.stderr.write(`${formatDiagnostics(result.diagnostics, { cwd, color: process.stderr.isTTY === true })}\n`);
            if (!result.manifest) {
              process.stdout.write(`${summaryLine(result, cwd)}; still serving the last good version\n`);
              return;
            }
            await served.reload();
            process.stdout.write(`${summaryLine(result, cwd)}; reloaded\n`);
          },
        );
      }
    });
}
