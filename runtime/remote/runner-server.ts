/**
 * One runner as its own server, speaking the Open Inference Protocol V2 REST API (KServe/Triton): a route
 * table over the shared HTTP server (runtime/http/). Its runner host has just this runner, so calls from
 * every API replica meet in the same adaptive dispatcher and are micro-batched together.
 *
 *   GET  /v2                              server metadata (extensions: binary_tensor_data)
 *   GET  /v2/health/live, /livez          200 while the process runs
 *   GET  /v2/health/ready, /readyz        200 once the model is loaded and warmed; 503 before and while draining
 *   GET  /v2/models/{name}[/versions/v]   model metadata
 *   GET  /v2/models/{name}/ready          200 / 503
 *   POST /v2/models/{name}[/versions/v]/infer   inference, JSON or binary tensor data
 *   GET  /metrics                         Prometheus text
 *
 * Errors carry the catalogue's status and the standard error body (its `error` and `code` are what V2
 * clients read): 400 bad tensors, 404 unknown model, 413, 503 not ready/overloaded/deadline, 504.
 */
import { SERVER_ROUTES, V2_ROUTES } from "../../contract/server-routes.ts";
import type { Manifest } from "../../sdk/manifest.ts";
import type { BentocConfig } from "../config/config-types.ts";
import { BadRequest, MethodNotAllowed, NotFound, ServiceUnavailable } from "../errors/http-errors.ts";
import { readBody } from "../http/body-reader.ts";
import type { Exchange } from "../http/exchange.ts";
import { createHttpServer, type RouteHandler, type Router } from "../http/http-server.ts";
import type { HttpTransport, TransportRequest } from "../http/transport.ts";
import type { Logger } from "../logging/logger.ts";
import type { MetricsSource, SpanHandle, Telemetry } from "../observability/telemetry.ts";
import { createRunnerHost, type RunnerHostWithStats } from "../runners/create-runner-host.ts";
import { displayUrl } from "../server/api-server.ts";
import { checkInputTensor } from "./input-tensor-check.ts";
import { itemsToTensor, tensorToItems } from "./item-tensors.ts";
import { type GraphTensor, INPUT_TENSOR, modelMetadata, OUTPUT_TENSOR, type RunnerModel, runnerModels } from "./runner-models.ts";
import { decodeInferRequest, encodeInferResponse, wantsBinaryOutput } from "./v2-codec.ts";
import { TIMEOUT_HEADER, type V2InferResponse } from "./v2-types.ts";

export interface RunnerServerOptions {
  manifest: Manifest;
  module: Record<string, unknown>;
  config: BentocConfig;
  /** The runner to host (a name in `manifest.runners`). */
  runner: string;
  port: number;
  host: string;
  transport: HttpTransport;
  telemetry: Telemetry;
  metricsSource: MetricsSource;
  logger: Logger;
  /** Absolute path of the bundle (needed when the runner's placement is "worker"). */
  bundlePath: string;
}

export interface RunnerServer {
  readonly port: number;
  readonly url: string;
  readonly backend: "uws" | "node";
  readonly host: RunnerHostWithStats;
  /** Requests being served now. */
  readonly inflight: number;
  /** Stops listening (ready turns 503), waits for in-flight requests up to `graceMs`, stops the runner. */
  drain(graceMs: number): Promise<void>;
  /** Closes at once: open requests get 503; stops the runner. */
  close(): Promise<void>;
}

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const PROBES = new Set<string>([V2_ROUTES.live, V2_ROUTES.ready, SERVER_ROUTES.live, SERVER_ROUTES.ready]);

interface RunnerRoutesDeps {
  readonly options: RunnerServerOptions;
  readonly host: RunnerHostWithStats;
  readonly models: Map<string, RunnerModel>;
  readonly draining: boolean;
  graph: { inputs: GraphTensor[]; outputs: GraphTensor[] } | undefined;
}

function notReadyReason(deps: RunnerRoutesDeps): string {
  const name = deps.options.runner;
  if (deps.draining) return `runner ${name} is shutting down`;
  const s = deps.host.status().find((r) => !r.ready);
  return `runner ${name} is not ready${s?.detail ? `: ${s.detail}` : ""}`;
}

function isReady(deps: RunnerRoutesDeps): boolean {
  return deps.host.ready && !deps.draining;
}

function notReady(deps: RunnerRoutesDeps): ServiceUnavailable {
  return new ServiceUnavailable(notReadyReason(deps), deps.draining ? "shutting_down" : "not_ready");
}

function createRunnerRouter(deps: RunnerRoutesDeps): Router {
  const version = deps.options.manifest.service.version;
  const get = (handler: RouteHandler) => (method: string) => (method === "GET" ? handler : new MethodNotAllowed(["GET"]));
  const live = get((ex) => ex.json(200, { live: true }));
  const ready = get((ex) => (isReady(deps) ? ex.json(200, { ready: true }) : ex.fail(notReady(deps))));
  const fixed: Record<string, (method: string) => ReturnType<Router["route"]>> = {
    [V2_ROUTES.live]: live,
    [SERVER_ROUTES.live]: live,
    [V2_ROUTES.ready]: ready,
    [SERVER_ROUTES.ready]: ready,
    [V2_ROUTES.server]: get((ex) => ex.json(200, { name: "bentoc", version: deps.options.manifest.compiler, extensions: ["binary_tensor_data"] })),
    [SERVER_ROUTES.metrics]: get((ex) => {
      const source = deps.options.metricsSource;
      source.metricsText().then(
        (text) => ex.send(200, source.contentType, text),
        (err: unknown) => ex.fail(err),
      );
    }),
  };
  return {
    route(method, path) {
      const builtin = fixed[path];
      if (builtin) return builtin(method);
      const m = MODEL_PATH.exec(path);
      if (!m) return new NotFound(`no route for ${method} ${path}`);
      const name = safeDecode(m[1] as string);
      const model = deps.models.get(name);
      if (!model) return new NotFound(`unknown model ${name}; this server hosts ${[...new Set([...deps.models.values()].map((x) => x.name))].join(", ")}`);
      if (m[2] !== undefined && safeDecode(m[2]) !== version) return new NotFound(`model ${name} has no version ${m[2]} (versions: ${version})`);
      const action = m[3];
      if (action === "/infer") return method === "POST" ? (ex, req) => infer(deps, model, ex, req) : new MethodNotAllowed(["POST"]);
      if (method !== "GET") return new MethodNotAllowed(["GET"]);
      if (action === "/ready") return (ex) => (isReady(deps) ? ex.json(200, { name: model.name, ready: true }) : ex.fail(notReady(deps)));
      return (ex) => {
        const info: Parameters<typeof modelMetadata>[1] = { version };
        if (deps.graph) info.graph = deps.graph;
        ex.json(200, modelMetadata(model, info));
      };
    },
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function infer(deps: RunnerRoutesDeps, model: RunnerModel, ex: Exchange, req: TransportRequest): void {
  const { options } = deps;
  const headerLength = req.header("inference-header-content-length");
  const traceparent = req.header("traceparent") || undefined;
  const timeoutHeader = Number(req.header(TIMEOUT_HEADER));
  const endpoint = `/v2/models/${model.name}/infer`;
  let span: SpanHandle | undefined;
  try {
    span = options.telemetry.startRequestSpan(`POST ${endpoint}`, traceparent);
  } catch (err) {
    options.logger.warn("telemetry failed", { err });
  }
  ex.countAs(endpoint, span);
  const maxBody = options.config.server.maxBodyBytes;
  if (!isReady(deps)) return ex.fail(notReady(deps), true);
  // The caller's time left (the API server sends it) shortens this request's deadline.
  const timeoutMs =
    Number.isFinite(timeoutHeader) && timeoutHeader > 0 ? Math.min(timeoutHeader, options.config.server.timeoutMs) : options.config.server.timeoutMs;
  ex.deadlineAt = ex.start + timeoutMs;
  const deadline = Date.now() + timeoutMs;
  readBody(ex, maxBody, true, (body) => {
    let items: unknown[];
    let request: ReturnType<typeof decodeInferRequest>;
    try {
      request = decodeInferRequest(body, headerLength);
      if (request.inputs.length !== 1) {
        throw new BadRequest(`model ${model.name} takes exactly one input tensor (${INPUT_TENSOR}); got ${request.inputs.length}`, "invalid_input", [
          { path: "/inputs", message: "must hold one tensor" },
        ]);
      }
      const unknown = request.outputs?.find((o) => o.name !== OUTPUT_TENSOR);
      if (unknown)
        throw new BadRequest(`model ${model.name} has no output ${unknown.name} (outputs: ${OUTPUT_TENSOR})`, "invalid_input", [
          { path: "/outputs", message: `unknown output ${unknown.name}` },
        ]);
      const tensor = request.inputs[0]!;
      const advertised = modelMetadata(
        model,
        deps.graph ? { version: options.manifest.service.version, graph: deps.graph } : { version: options.manifest.service.version },
      ).inputs[0]!;
      checkInputTensor(tensor, model.inputKind, { datatype: advertised.datatype, shape: advertised.shape }, deps.graph?.inputs.length === 1);
      items = tensorToItems(tensor, model.inputKind);
    } catch (err) {
      return ex.fail(err);
    }
    const handle = deps.host.handle(model.runner.name);
    handle.call(model.method.name, items, { signal: ex.signal(), traceparent: ex.span?.traceparent ?? traceparent, deadline }).then(
      (results) => {
        if (ex.done) return;
        try {
          const response: V2InferResponse = {
            model_name: model.name,
            model_version: options.manifest.service.version,
            outputs: [itemsToTensor(OUTPUT_TENSOR, results, model.outputKind)],
          };
          if (request.id !== undefined) response.id = request.id;
          const enc = encodeInferResponse(response, (n) => wantsBinaryOutput(request, n));
          const headers: string[] = [];
          for (const [k, v] of Object.entries(enc.headers)) if (k !== "content-type") headers.push(k, v);
          ex.send(200, enc.headers["content-type"] ?? "application/json", enc.body, headers);
        } catch (err) {
          ex.fail(err);
        }
      },
      (err: unknown) => ex.fail(err),
    );
  });
}

/** Reads the model's graph tensors from the store (for metadata); undefined when unavailable. */
async function readGraph(tag: string | null, home: string): Promise<{ inputs: GraphTensor[]; outputs: GraphTensor[] } | undefined> {
  if (!tag) return undefined;
  try {
    const { ModelStore } = await import("../models/model-store.ts");
    const record = await new ModelStore(home).get(tag);
    return { inputs: record.inputs, outputs: record.outputs };
  } catch {
    return undefined;
  }
}

/**
 * Starts the V2 server for `options.runner`: listens first (liveness answers while the model loads), then
 * loads the runner. Rejects, with the server closed, when the runner does not exist or fails to start.
 */
export async function startRunnerServer(options: RunnerServerOptions): Promise<RunnerServer> {
  const runner = options.manifest.runners.find((r) => r.name === options.runner);
  if (!runner) {
    const names = options.manifest.runners.map((r) => r.name).join(", ") || "none";
    throw new Error(`service ${options.manifest.service.name} has no runner named ${options.runner} (runners: ${names})`);
  }
  const { logger, telemetry } = options;
  // Only this runner, and in this process: a `url` for it in the config points at this very server.
  const manifest: Manifest = { ...options.manifest, runners: [runner], service: { ...options.manifest.service, dependencies: [] } };
  const own = options.config.runners[runner.name];
  const config: BentocConfig = own?.url ? { ...options.config, runners: { ...options.config.runners, [runner.name]: { ...own, url: null } } } : options.config;
  const host = createRunnerHost(manifest, options.module, config, { bundlePath: options.bundlePath, telemetry });
  const deps: RunnerRoutesDeps = {
    options: { ...options, manifest, config },
    host,
    models: runnerModels(runner, options.manifest.$defs),
    get draining() {
      return http.draining;
    },
    graph: undefined,
  };
  const http = createHttpServer({
    transport: options.transport,
    router: createRunnerRouter(deps),
    logger,
    metrics: telemetry,
    timeoutMs: config.server.timeoutMs,
    maxBodyBytes: config.server.maxBodyBytes,
    cors: undefined,
    // Probes (kubelet, every API replica's readiness poll) only at debug level.
    accessLog: config.server.accessLog ? (path) => (PROBES.has(path) ? "debug" : "info") : undefined,
  });
  const port = await http.listen({ host: options.host, port: options.port, exclusive: true });
  try {
    const [, graph] = await Promise.all([host.start(), readGraph(runner.model, config.home)]);
    deps.graph = graph;
  } catch (err) {
    http.close();
    await host.stop().catch(() => undefined);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    url: displayUrl(options.host, port),
    backend: http.backend,
    host,
    get inflight() {
      return http.inflight;
    },
    drain(graceMs) {
      stopping ??= (async () => {
        await http.drain(graceMs);
        await host.stop().catch((err: unknown) => logger.error("stopping the runner failed", { err }));
        http.close();
      })();
      return stopping;
    },
    async close() {
      http.close();
      await host.stop().catch(() => undefined);
      logger.flush();
    },
  };
}
