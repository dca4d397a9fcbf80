/**
 * `bentoc serve-runner <compiled dir | bento tag> --runner NAME [--port 3001] [--host] [--config]`
 * One runner as its own process, speaking the Open Inference Protocol V2 (the runner Deployments of the
 * split overlay run exactly this). SIGTERM/SIGINT: readiness turns 503, in-flight calls finish within
 * `server.drainMs`, the runner stops, exit 0.
 */

import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { MANIFEST_FILE } from "../../contract/output-files.ts";
import { SERVER_ROUTES, V2_ROUTES } from "../../contract/server-routes.ts";
import { DEFAULT_RUNNER_PORT } from "../../contract/shared-defaults.ts";
import type { BentocConfig } from "../../runtime/config/config-types.ts";
import { ConfigError, type DeepPartial, loadConfig } from "../../runtime/config/load-config.ts";
import type { startRunnerServer } from "../../runtime/remote/runner-server.ts";

interface Flags {
  runner: string;
  port?: string;
  host?: string;
  config?: string;
  http?: string;
}

async function resolveDir(arg: string, home: string): Promise<string> {
  const abs = resolve(arg);
  const stat = statSync(abs, { throwIfNoEntry: false });
  if (stat?.isDirectory() && existsSync(join(abs, MANIFEST_FILE))) return abs;
  const { resolveVerifiedBento } = await import("../../bento/bento-store.ts");
  const dir = await resolveVerifiedBento(arg, home);
  if (dir) return dir;
  throw new Error(`${arg}: not a compiled directory (with bento.json) or a bento tag in ${home}/bentos; compile the service first`);
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

export function register(program: Command): void {
  program
    .command("serve-runner")
    .description("Serve one runner of a compiled service or bento over the Open Inference Protocol V2 (runner-split)")
    .argument("<target>", "compiled dir (bento.json) or bento tag name[:version]")
    .requiredOption("--runner <name>", "the runner to serve")
    .option("-p, --port <port>", `port (default ${DEFAULT_RUNNER_PORT})`)
    .option("--host <host>", "address to bind (default: server.host of the config, 0.0.0.0)")
    .option("--config <file>", "bentoc.yaml (default: ./bentoc.yaml when present)")
    .option("--http <backend>", "HTTP backend: auto (uWebSockets.js where it loads, else node:http), uws or node")
    .action(async (arg: string, flags: Flags) => {
      // Loaded on use: the other commands start without OpenTelemetry and onnxruntime.
      const [
        { createLogger },
        { createTelemetry },
        { startRunnerServer },
        { modelNameFor },
        { loadCompiledDir },
        { createTransport },
        { PortInUseError },
        { onShutdownSignals },
      ] = await Promise.all([
        import("../../runtime/logging/logger.ts"),
        import("../../runtime/observability/create-telemetry.ts"),
        import("../../runtime/remote/runner-server.ts"),
        import("../../runtime/remote/runner-models.ts"),
        import("../../runtime/server/load-compiled.ts"),
        import("../../runtime/http/create-transport.ts"),
        import("../../runtime/http/transport.ts"),
        import("../../runtime/shutdown-signals.ts"),
      ]);
      const home = loadConfig({ file: null }).home;
      let dir: string;
      try {
        dir = await resolveDir(arg, home);
      } catch (err) {
        fail((err as Error).message);
      }
      const loaded = await loadCompiledDir(dir).catch((err: unknown) => fail((err as Error).message));
      const overrides: DeepPartial<BentocConfig> = { server: {} };
      if (flags.host !== undefined) overrides.server!.host = flags.host;
      if (flags.http !== undefined) overrides.server!.http = flags.http as BentocConfig["server"]["http"];
      let config: BentocConfig;
      try {
        config = loadConfig({ manifest: loaded.manifest, file: flags.config, overrides });
      } catch (err) {
        if (err instanceof ConfigError) fail(err.issues.map((i) => `${i.source}: ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n"));
        fail((err as Error).message);
      }
      const port = flags.port !== undefined ? Number(flags.port) : DEFAULT_RUNNER_PORT;
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got ${flags.port}`);
      const runner = loaded.manifest.runners.find((r) => r.name === flags.runner);
      if (!runner)
        fail(
          `service ${loaded.manifest.service.name} has no runner named ${flags.runner} (runners: ${loaded.manifest.runners.map((r) => r.name).join(", ") || "none"})`,
        );

      const logger = createLogger({ level: config.logging.level, fields: { runner: runner.name } });
      const maxBatchSizes: Record<string, number> = {};
      for (const m of runner.methods) maxBatchSizes[`${runner.name}.${m.name}`] = m.maxBatchSize;
      const telemetry = createTelemetry(config, { name: loaded.manifest.service.name, version: loaded.manifest.service.version, maxBatchSizes });
      let server: Awaited<ReturnType<typeof startRunnerServer>>;
      try {
        const { transport, choice } = createTransport(config.server.http, { maxHeaderBytes: config.server.maxHeaderBytes, headersTimeoutMs: 10_000 });
        logger.info("http backend", { backend: choice.name, reason: choice.reason });
        server = await startRunnerServer({
          manifest: loaded.manifest,
          module: loaded.module,
          config,
          runner: runner.name,
          port,
          host: config.server.host,
          transport,
          telemetry,
          metricsSource: telemetry,
          logger,
          bundlePath: join(dir, loaded.manifest.entry.bundle),
        });
      } catch (err) {
        fail(err instanceof PortInUseError ? err.message : `runner ${flags.runner} failed to start: ${(err as Error).message}`);
      }
      const out = (line: string) => void process.stdout.write(`${line}\n`);
      out(
        `bentoc: serving runner ${runner.name} of ${loaded.manifest.service.name}@${loaded.manifest.service.version} at ${server.url} (Open Inference Protocol V2, http: ${server.backend})`,
      );
      for (const m of runner.methods) out(`  POST ${server.url}/v2/models/${modelNameFor(runner, m.name)}/infer   (${m.name}, max batch ${m.maxBatchSize})`);
      out(`  health ${server.url}${V2_ROUTES.live} ${server.url}${V2_ROUTES.ready}   metrics ${server.url}${SERVER_ROUTES.metrics}`);
      onShutdownSignals(logger, async () => {
        await server.drain(config.server.drainMs);
        await telemetry.shutdown().catch(() => undefined);
      });
    });
}
