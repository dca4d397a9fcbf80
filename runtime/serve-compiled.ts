/**
 * Serves a compiled directory (`bento.json`, `openapi.json`, `service.mjs`): creates the runner host,
 * starts the API server on the chosen HTTP backend (or N worker processes sharing the port), prints the
 * address, routes and docs URL, and on SIGTERM/SIGINT drains in-flight requests within
 * `config.server.drainMs`, stops runners and exits 0.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SERVER_ROUTES } from "../contract/server-routes.ts";
import type { Manifest } from "../sdk/manifest.ts";
import type { BentocConfig } from "./config/config-types.ts";
import { methodBatching } from "./config/load-config.ts";
import { createTransport } from "./http/create-transport.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import { createTelemetry, type RuntimeTelemetry } from "./observability/create-telemetry.ts";
import type { MetricsSource, Telemetry } from "./observability/telemetry.ts";
import { createRunnerHost } from "./runners/create-runner-host.ts";
import type { RunnerHost } from "./runners/runner-host.ts";
import { type ApiServer, startApiServer } from "./server/api-server.ts";
import { type CompiledService, loadCompiledDir } from "./server/load-compiled.ts";
import { onShutdownSignals } from "./shutdown-signals.ts";

export interface ServeCompiledOptions {
  /** Telemetry to use instead of the one the config describes (tests, benchmarks). */
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
  metricsSource?: MetricsSource;
  /** Listen beside sibling workers on the same port instead of exclusively (API workers). */
  sharedPort?: boolean;
}

export interface ServedService {
  readonly url: string;
  readonly port: number;
  /** The HTTP backend serving (`uws` or `node`). */
  readonly backend: "uws" | "node";
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
  return createRunnerHost(loaded.manifest, loaded.module, config, { bundlePath: join(loaded.dir, loaded.manifest.entry.bundle), telemetry });
}

/** The process's telemetry from the config: Prometheus metrics and OpenTelemetry tracing (see docs/observability.md). */
function telemetryFor(manifest: Manifest, config: BentocConfig, logger: Logger): RuntimeTelemetry {
  const maxBatchSizes: Record<string, number> = {};
  for (const r of manifest.runners) {
    for (const m of r.methods) {
      const size = methodBatching(config, r, m.name).maxBatchSize;
      maxBatchSizes[`${r.name}.${m.name}`] = size;
      maxBatchSizes[r.name] = Math.max(maxBatchSizes[r.name] ?? 1, size);
    }
  }
  return createTelemetry(config, { name: manifest.service.name, version: manifest.service.version, maxBatchSizes }, { logger });
}

export async function serveCompiledDir(dir: string, given: BentocConfig, opts: ServeCompiledOptions = {}): Promise<ServedService> {
  const logger = opts.logger ?? createLogger({ level: given.logging.level });
  const print = opts.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  // The admin route always needs a token: one from the config (never printed), or a fresh one printed below.
  const madeToken = given.server.admin && !given.server.adminToken ? randomBytes(24).toString("base64url") : undefined;
  const config: BentocConfig = madeToken ? { ...given, server: { ...given.server, adminToken: madeToken } } : given;
  let served: ServedService;
  if (config.server.workers > 1) {
    const loaded = await loadCompiledDir(dir);
    // The pool's code loads only with `workers > 1`.
    const { startWorkerPool } = await import("./server/worker-pool.ts");
    const pool = await startWorkerPool(dir, config, logger, (why) => {
      logger.error("no API worker is left", { why });
      logger.flush();
      if (opts.signals !== false) process.exit(1);
    });
    printBanner(print, loaded.manifest, pool.url, pool.backend, config.server.workers, madeToken);
    served = {
      url: pool.url,
      port: pool.port,
      backend: pool.backend,
      server: undefined,
      reload: () => pool.reload(),
      shutdown: () => pool.shutdown(),
      metricsJson: async () => [],
    };
  } else {
    served = await serveInProcess(dir, config, logger, print, opts, madeToken);
  }
  opts.onReady?.(served);
  if (opts.signals !== false) onShutdownSignals(logger, () => served.shutdown());
  return served;
}

async function serveInProcess(
  dir: string,
  config: BentocConfig,
  logger: Logger,
  print: (l: string) => void,
  opts: ServeCompiledOptions,
  madeToken: string | undefined,
): Promise<ServedService> {
  const loaded = await loadCompiledDir(dir);
  const owned = opts.telemetry ? undefined : telemetryFor(loaded.manifest, config, logger);
  const telemetry: Telemetry = opts.telemetry ?? (owned as RuntimeTelemetry);
  if (owned?.tracingEnabled) logger.info("tracing", { sampleRate: owned.tracing.sampleRate, endpoint: owned.tracing.endpoint });
  const metricsSource: MetricsSource = opts.metricsSource ?? owned ?? { contentType: "text/plain; version=0.0.4; charset=utf-8", metricsText: async () => "" };
  const { transport, choice } = createTransport(config.server.http, { maxHeaderBytes: config.server.maxHeaderBytes, headersTimeoutMs: HEADERS_TIMEOUT_MS });
  logger.info("http backend", { backend: choice.name, reason: choice.reason });
  let runners = makeRunnerHost(loaded, config, telemetry);
  const server = await startApiServer({
    ...loaded,
    runners,
    config,
    transport,
    listen: { host: config.server.host, port: config.server.port, exclusive: opts.sharedPort !== true },
    logger,
    metrics: telemetry,
    tracing: telemetry,
    metricsSource,
  });
  try {
    await runners.start();
  } catch (err) {
    await server.close();
    await runners.stop().catch(() => {});
    throw new Error(`runners failed to start: ${(err as Error).message}`, { cause: err });
  }
  printBanner(print, loaded.manifest, server.url, server.backend, 1, madeToken);
  let shuttingDown: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    backend: server.backend,
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

/** How long a client may take to send the request line and headers (node:http; uWS has its own ~10 s). */
const HEADERS_TIMEOUT_MS = 10_000;

function printBanner(print: (l: string) => void, manifest: Manifest, url: string, backend: string, workers: number, adminToken: string | undefined): void {
  const s = manifest.service;
  print(`bentoc: serving ${s.name}@${s.version} at ${url} (http: ${backend}${workers > 1 ? `, ${workers} workers` : ""})`);
  for (const api of s.apis) print(`  ${api.method.padEnd(4)} ${url}${api.route}`);
  const r = SERVER_ROUTES;
  print(`  docs  ${url}${r.docs}   health ${url}${r.live} ${url}${r.ready}   metrics ${url}${r.metrics}`);
  if (adminToken) print(`  admin ${url}/_bentoc/batching   token ${adminToken}   (bentoc bench --admin-token, or BENTOC_ADMIN_TOKEN)`);
}
