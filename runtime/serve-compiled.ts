/**
 * Serves a compiled directory (`bento.json`, `openapi.json`, `service.mjs`): creates the runner host,
 * starts the uWS server (or N workers sharing the port), prints the address, routes and docs URL, and
 * on SIGTERM/SIGINT drains in-flight requests within `config.server.drainMs`, stops runners, exits 0.
 */
import type { BentocConfig } from "./config/config-types.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import type { Telemetry } from "./observability/telemetry.ts";
import { createRunnerHost } from "./runners/create-runner-host.ts";
import type { RunnerHost } from "./runners/runner-host.ts";
import type { Manifest } from "../sdk/manifest.ts";
import { loadCompiledDir, type CompiledService } from "./server/load-compiled.ts";
import { createTelemetry, type RuntimeTelemetry } from "./observability/create-telemetry.ts";
import { methodBatching } from "./config/load-config.ts";
import { join } from "node:path";
import { startServer, type ApiServer } from "./server/start-server.ts";
import { startWorkers } from "./server/workers.ts";

export interface ServeCompiledOptions {
  telemetry?: Telemetry;
  logger?: Logger;
  onReady?(server: { url: string; port: number }): void;
  /** Install SIGTERM/SIGINT handlers that drain and exit (default true). */
  signals?: boolean;
  /** Where the banner (address, routes, docs) goes; default stdout. */
  print?: (line: string) => void;
  /**
   * Answers `/metrics` instead of this process's registry (API workers: the parent aggregates every
   * worker's metrics, so a scrape sees the whole server, not one random worker).
   */
  metricsText?: () => Promise<string>;
}

export interface ServedService {
  readonly url: string;
  readonly port: number;
  /** The in-process server (undefined with `workers > 1`). */
  readonly server: ApiServer | undefined;
  /** Re-reads the directory and swaps to it without dropping the port or in-flight requests. */
  reload(): Promise<void>;
  /** Drain (grace `config.server.drainMs`), stop runners, close. Does not exit the process. */
  shutdown(): Promise<void>;
  /** This process's metrics as prom-client JSON (for aggregation over workers); [] when metrics are off. */
  metricsJson(): Promise<unknown[]>;
}

function makeRunnerHost(loaded: CompiledService, config: BentocConfig, telemetry: Telemetry): RunnerHost {
  return createRunnerHost(loaded.manifest, loaded.module, config, { bundlePath: join(loaded.dir, loaded.manifest.entry?.bundle || "service.mjs"), telemetry });
}

/** The process's telemetry from the config: Prometheus metrics and OpenTelemetry tracing (see docs/observability.md). */
function telemetryFor(manifest: Manifest, config: BentocConfig): RuntimeTelemetry {
  const maxBatchSizes: Record<string, number> = {};
  for (const r of manifest.runners) {
    for (const m of r.methods) {
      const size = methodBatching(config, r, m.name).maxBatchSize;
      maxBatchSizes[`${r.name}.${m.name}`] = size;
      maxBatchSizes[r.name] = Math.max(maxBatchSizes[r.name] ?? 1, size);
    }
  }
  return createTelemetry(config, { name: manifest.service.name, version: manifest.service.version, maxBatchSizes });
}

export async function serveCompiledDir(dir: string, config: BentocConfig, opts: ServeCompiledOptions = {}): Promise<ServedService> {
  const logger = opts.logger ?? createLogger({ level: config.logging.level });
  const print = opts.print ?? ((line: string) => void process.stdout.write(line + "\n"));
  const served = config.server.workers > 1 ? await serveWithWorkers(dir, config, logger, print) : await serveInProcess(dir, config, logger, print, opts.telemetry, opts.metricsText);
  opts.onReady?.(served);
  if (opts.signals !== false) installSignalHandlers(served, logger);
  return served;
}

async function serveInProcess(
  dir: string,
  config: BentocConfig,
  logger: Logger,
  print: (l: string) => void,
  given: Telemetry | undefined,
  metricsText: (() => Promise<string>) | undefined,
): Promise<ServedService> {
  const loaded = await loadCompiledDir(dir);
  const owned = given ? undefined : telemetryFor(loaded.manifest, config);
  const telemetry: Telemetry = given ?? (owned as RuntimeTelemetry);
  if (owned?.tracingEnabled) logger.info("tracing", { sampleRate: owned.tracing.sampleRate, endpoint: owned.tracing.endpoint });
  let runners = makeRunnerHost(loaded, config, telemetry);
  // API workers answer /metrics with every worker's sum (see workers.ts); the rest of the telemetry is local.
  const serverTelemetry: Telemetry = owned && metricsText ? ({ ...owned, metricsText } satisfies RuntimeTelemetry as Telemetry) : telemetry;
  const server = await startServer({ ...loaded, runners, config, logger, telemetry: serverTelemetry });
  try {
    await runners.start();
  } catch (err) {
    await server.close();
    await runners.stop().catch(() => {});
    throw new Error(`runners failed to start: ${(err as Error).message}`, { cause: err });
  }
  printBanner(print, loaded.manifest, server.url, config.server.workers);
  let shuttingDown: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    server,
    metricsJson: async () => (owned?.metrics ? ((await owned.metrics.registry.getMetricsAsJSON()) as unknown[]) : []),
    async reload() {
      const next = await loadCompiledDir(dir);
      const nextRunners = makeRunnerHost(next, config, telemetry);
      try {
        await nextRunners.start();
        await server.swap({ ...next, runners: nextRunners });
      } catch (err) {
        await nextRunners.stop().catch(() => {});
        throw err;
      }
      runners = nextRunners;
      logger.info("reloaded", { service: next.manifest.service.name });
    },
    shutdown() {
      shuttingDown ??= (async () => {
        await server.drain(config.server.drainMs);
        await runners.stop().catch((err: unknown) => logger.error("stopping runners failed", { err }));
        await server.close();
        await owned?.shutdown().catch((err: unknown) => logger.warn("flushing spans failed", { err }));
      })();
      return shuttingDown;
    },
  };
}

async function serveWithWorkers(dir: string, config: BentocConfig, logger: Logger, print: (l: string) => void): Promise<ServedService> {
  const loaded = await loadCompiledDir(dir);
  const pool = await startWorkers(dir, config, config.server.workers);
  printBanner(print, loaded.manifest, pool.url, config.server.workers);
  logger.debug("workers started", { workers: config.server.workers });
  return { url: pool.url, port: pool.port, server: undefined, reload: () => pool.reload(), shutdown: () => pool.shutdown(), metricsJson: async () => [] };
}

function printBanner(print: (l: string) => void, manifest: Manifest, url: string, workers: number): void {
  const s = manifest.service;
  print(`bentoc: serving ${s.name}@${s.version} at ${url}${workers > 1 ? ` (${workers} workers)` : ""}`);
  for (const api of s.apis) print(`  ${(api.method ?? "POST").padEnd(4)} ${url}${api.route}`);
  print(`  docs  ${url}/docs   health ${url}/livez ${url}/readyz   metrics ${url}/metrics`);
}

function installSignalHandlers(served: ServedService, logger: Logger): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn("second signal: exiting now", { signal });
      logger.flush();
      process.exit(1);
    }
    signalled = true;
    logger.info("draining", { signal });
    served.shutdown().then(
      () => {
        logger.info("stopped");
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error("shutdown failed", { err });
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
