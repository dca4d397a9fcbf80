/**
 * The API server: the service's route table over the shared HTTP server (runtime/http/), on the backend
 * the config asks for. One router reads the current `ServiceState`, so a hot reload swaps one reference:
 * new requests see the new version while in-flight ones finish on the old.
 */
import type { BentocConfig } from "../config/config-types.ts";
import { createCorsPolicy } from "../http/cors.ts";
import { createHttpServer } from "../http/http-server.ts";
import type { HttpTransport, ListenTarget } from "../http/transport.ts";
import { sharedImageDecoder } from "../io/image-decoder.ts";
import type { Logger } from "../logging/logger.ts";
import type { MetricsSource, RequestMetrics, RequestTracing } from "../observability/telemetry.ts";
import type { ApiRequestContext } from "./api-handler.ts";
import { createApiRouter } from "./api-router.ts";
import { createServiceState, type ServiceState, type ServiceVersion } from "./service-state.ts";

export interface ApiServerOptions extends ServiceVersion {
  config: BentocConfig;
  transport: HttpTransport;
  /** Where to listen; default the config's host and port, exclusively. */
  listen?: ListenTarget;
  logger: Logger;
  metrics: RequestMetrics;
  tracing: RequestTracing;
  /** What `/metrics` answers. */
  metricsSource: MetricsSource;
}

export interface ApiServer {
  readonly port: number;
  readonly url: string;
  readonly backend: "uws" | "node";
  /**
   * Hot reload: builds the next version (instance + `setup()`), then routes new requests to it; resolves
   * once the old version's in-flight requests finished, after stopping the old runner host (unless the
   * same host is passed again). On failure the old version keeps serving and the promise rejects.
   */
  swap(next: ServiceVersion): Promise<void>;
  /** Stops accepting connections and waits for in-flight requests, up to `graceMs`. */
  drain(graceMs: number): Promise<void>;
  /** Closes: requests still open get 503. Does not stop the runner host. */
  close(): Promise<void>;
  /** Requests being served right now. */
  readonly inflight: number;
  /** The version being served. */
  readonly current: ServiceState;
}

function waitIdle(state: ServiceState): Promise<void> {
  if (state.inflight === 0) return Promise.resolve();
  return new Promise((resolve) => {
    state.onIdle = () => {
      state.onIdle = undefined;
      resolve();
    };
  });
}

/** The URL to print for a bound host: wildcard addresses are shown as loopback. */
export function displayUrl(host: string, port: number): string {
  const shown = host === "0.0.0.0" || host === "" || host === "::" ? "127.0.0.1" : host;
  return `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config, logger } = options;
  const s = config.server;
  if (s.admin && !s.adminToken) throw new Error("server.admin needs server.adminToken (serveCompiledDir makes one)");
  const decoding = { maxImagePixels: s.maxImagePixels, images: sharedImageDecoder(s.timeoutMs) };
  let state = await createServiceState(options, decoding);
  const requests: ApiRequestContext = {
    tracing: options.tracing,
    logger,
    maxBodyBytes: s.maxBodyBytes,
    timeoutMs: s.timeoutMs,
    maxConcurrency: s.maxConcurrency,
    metrics: options.metrics,
    stream: { maxMs: s.streamMaxMs, idleMs: s.streamIdleMs || s.timeoutMs, heartbeatMs: s.streamHeartbeatMs },
    running: 0,
  };
  const http = createHttpServer({
    transport: options.transport,
    logger,
    metrics: options.metrics,
    timeoutMs: s.timeoutMs,
    maxBodyBytes: s.maxBodyBytes,
    cors: createCorsPolicy(s.cors),
    accessLog: s.accessLog ? () => "info" : undefined,
    router: createApiRouter({
      current: () => state,
      get draining() {
        return http.draining;
      },
      metrics: options.metricsSource,
      requests,
      adminToken: s.admin && s.adminToken ? s.adminToken : undefined,
      logger,
    }),
  });
  const port = await http.listen(options.listen ?? { host: s.host, port: s.port, exclusive: true });
  let swapping: Promise<void> = Promise.resolve();

  return {
    port,
    url: displayUrl(s.host, port),
    backend: http.backend,
    get inflight() {
      return http.inflight;
    },
    get current() {
      return state;
    },
    swap(next) {
      const run = async (): Promise<void> => {
        const fresh = await createServiceState(next, decoding);
        const old = state;
        state = fresh;
        logger.info("service swapped", { service: next.manifest.service.name, version: next.manifest.service.version });
        await waitIdle(old);
        if (old.runners !== next.runners) await old.runners.stop();
      };
      swapping = swapping.then(run, run);
      return swapping;
    },
    drain: (graceMs) => http.drain(graceMs),
    async close() {
      http.close();
      logger.flush();
    },
  };
}
