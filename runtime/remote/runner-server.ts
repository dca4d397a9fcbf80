/**
 * One runner as its own server, speaking the Open Inference Protocol V2 REST API (KServe/Triton) on
 * uWebSockets.js. Its runner host has just this runner, so calls from every API replica meet in the same
 * adaptive dispatcher and are micro-batched together.
 *
 *   GET  /v2                              server metadata (extensions: binary_tensor_data)
 *   GET  /v2/health/live, /livez          200 while the process runs
 *   GET  /v2/health/ready, /readyz        200 once the model is loaded and warmed; 503 before and while draining
 *   GET  /v2/models/{name}[/versions/v]   model metadata
 *   GET  /v2/models/{name}/ready          200 / 503
 *   POST /v2/models/{name}[/versions/v]/infer   inference, JSON or binary tensor data
 *   GET  /metrics                         Prometheus text
 *
 * Errors are V2 error objects `{ "error": message, "code": code }` with the status of the runtime's error
 * catalogue (400 bad tensors, 404 unknown model, 413, 503 not ready/overloaded/deadline, 504).
 * uWS rules as in server/start-server.ts: nothing touches a response after onAborted, body chunks are
 * copied, writes are corked, no exception crosses a uWS callback.
 */
import uws from "uWebSockets.js";
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from "uWebSockets.js";
import type { Manifest } from "../../sdk/manifest.ts";
import type { BentocConfig } from "../config/config-types.ts";
import { toErrorResponse } from "../errors/error-response.ts";
import { BadRequest, GatewayTimeout, MethodNotAllowed, NotFound, PayloadTooLarge, ServiceUnavailable } from "../errors/http-errors.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { noopTelemetry, type SpanHandle, type Telemetry } from "../observability/telemetry.ts";
import { createRunnerHost, type RunnerHostWithStats } from "../runners/create-runner-host.ts";
import { statusLine } from "../server/http-status.ts";
import { metricsText } from "../server/metrics-text.ts";
import { itemsToTensor, tensorToItems } from "./item-tensors.ts";
import { INPUT_TENSOR, OUTPUT_TENSOR, modelMetadata, runnerModels, type GraphTensor, type RunnerModel } from "./runner-models.ts";
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
  telemetry?: Telemetry;
  logger?: Logger;
  /** Absolute path of the bundle (needed when the runner's placement is "worker"). */
  bundlePath?: string;
}

export interface RunnerServer {
  readonly port: number;
  readonly url: string;
  readonly host: RunnerHostWithStats;
  /** Requests being served now. */
  readonly inflight: number;
  /** Stops listening (ready turns 503), waits for in-flight requests up to `graceMs`, stops the runner. */
  drain(graceMs: number): Promise<void>;
  /** Closes at once: open requests get 503; stops the runner. */
  close(): Promise<void>;
}

const JSON_CT = "application/json";
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

class Exchange {
  aborted = false;
  done = false;
  timer: NodeJS.Timeout | undefined;
  controller: AbortController | undefined;
  span: SpanHandle | undefined;
  endpoint: string | undefined;
  bytesIn = 0;
  readonly start = performance.now();

  constructor(
    readonly server: Server,
    readonly res: HttpResponse,
    readonly method: string,
    readonly path: string,
  ) {}

  send(status: number, contentType: string, body: string | Uint8Array, headers?: Record<string, string>, close = false): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.aborted) {
      try {
        this.res.cork(() => {
          this.res.writeStatus(statusLine(status));
          this.res.writeHeader("content-type", contentType);
          if (headers) for (const k in headers) this.res.writeHeader(k, headers[k] as string);
          if (this.method === "HEAD") this.res.endWithoutBody(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength, close || this.server.draining);
          else this.res.end(body, close || this.server.draining);
        });
      } catch (err) {
        this.server.logger.error("writing the response failed", { err });
      }
    }
    this.finish(status);
  }

  json(status: number, value: unknown): void {
    this.send(status, JSON_CT, JSON.stringify(value));
  }

  /** A V2 error object with the catalogue's status and code. */
  fail(err: unknown, close = false): void {
    if (this.done) return;
    const r = toErrorResponse(err, "");
    if (r.internal) this.server.logger.error("inference failed", { path: this.path, err });
    const body: Record<string, unknown> = { error: r.body.error, code: r.body.code };
    if (r.body.detail !== undefined) body["detail"] = r.body.detail;
    this.send(r.status, JSON_CT, JSON.stringify(body), r.headers, close);
  }

  onAbort(): void {
    this.aborted = true;
    this.controller?.abort(new Error("client disconnected"));
    if (!this.done) {
      this.done = true;
      if (this.timer) clearTimeout(this.timer);
      this.finish(499);
    }
  }

  private finish(status: number): void {
    const seconds = (performance.now() - this.start) / 1000;
    this.server.finished(this);
    if (this.endpoint !== undefined) {
      try {
        this.server.telemetry.requestFinished(this.endpoint, status, seconds);
        this.span?.setAttribute("http.status_code", status);
        this.span?.end(status >= 500 ? new Error(`status ${status}`) : undefined);
      } catch (err) {
        this.server.logger.warn("telemetry failed", { err });
      }
    }
    if (this.server.accessLog) {
      const line: Record<string, unknown> = { method: this.method, path: this.path, status, durationMs: Math.round(seconds * 1e6) / 1000, bytesIn: this.bytesIn };
      const tp = this.span?.traceparent;
      if (tp) line["traceId"] = tp.split("-")[1];
      // Probes (kubelet, every API replica's readiness poll) only at debug level.
      if (this.path.startsWith("/v2/health/") || this.path === "/livez" || this.path === "/readyz") this.server.logger.debug("request", line);
      else this.server.logger.info("request", line);
    }
  }
}

class Server {
  readonly app: TemplatedApp;
  listenSocket: us_listen_socket | false = false;
  port = 0;
  draining = false;
  closed = false;
  inflight = 0;
  open = new Set<Exchange>();
  idleWaiters: (() => void)[] = [];
  readonly accessLog: boolean;
  readonly models: Map<string, RunnerModel>;
  graph: { inputs: GraphTensor[]; outputs: GraphTensor[] } | undefined;

  constructor(
    readonly options: RunnerServerOptions,
    readonly host: RunnerHostWithStats,
    readonly telemetry: Telemetry,
    readonly logger: Logger,
  ) {
    const runner = options.manifest.runners.find((r) => r.name === options.runner)!;
    this.models = runnerModels(runner, options.manifest.$defs);
    this.accessLog = options.config.server.accessLog;
    this.app = uws.App();
    this.app.any("/*", (res, req) => {
      try {
        this.dispatch(res, req);
      } catch (err) {
        this.logger.error("dispatch failed", { err });
        try {
          res.cork(() => res.writeStatus(statusLine(500)).writeHeader("content-type", JSON_CT).end('{"error":"Internal Server Error","code":"internal"}', true));
        } catch {
          /* the response was already used */
        }
      }
    });
  }

  get version(): string {
    return this.options.manifest.service.version;
  }

  get ready(): boolean {
    return this.host.ready && !this.draining;
  }

  notReadyReason(): string {
    if (this.draining) return `runner ${this.options.runner} is shutting down`;
    const s = this.host.status().find((r) => !r.ready);
    return `runner ${this.options.runner} is not ready${s?.detail ? `: ${s.detail}` : ""}`;
  }

  finished(ex: Exchange): void {
    this.open.delete(ex);
    this.inflight--;
    if (this.inflight === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  dispatch(res: HttpResponse, req: HttpRequest): void {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const url = req.getUrl();
    const path = url.length > 1 && url.endsWith("/") ? url.slice(0, -1) : url;
    const ex = new Exchange(this, res, method, path);
    this.inflight++;
    this.open.add(ex);
    res.onAborted(() => {
      try {
        ex.onAbort();
      } catch (err) {
        this.logger.error("abort handling failed", { err });
      }
    });
    const contentLength = req.getHeader("content-length");
    const hasBody = (contentLength !== "" && contentLength !== "0") || req.getHeader("transfer-encoding") !== "";
    if (this.closed) return ex.fail(new ServiceUnavailable("runner server is shutting down", "shutting_down"), true);
    const isGet = method === "GET" || method === "HEAD";

    switch (path) {
      case "/v2/health/live":
      case "/livez":
        if (!isGet) return ex.fail(new MethodNotAllowed(["GET", "HEAD"]), hasBody);
        return ex.json(200, { live: true });
      case "/v2/health/ready":
      case "/readyz":
        if (!isGet) return ex.fail(new MethodNotAllowed(["GET", "HEAD"]), hasBody);
        return this.ready ? ex.json(200, { ready: true }) : ex.send(503, JSON_CT, JSON.stringify({ ready: false, error: this.notReadyReason(), code: this.draining ? "shutting_down" : "not_ready" }));
      case "/v2":
        if (!isGet) return ex.fail(new MethodNotAllowed(["GET", "HEAD"]), hasBody);
        return ex.json(200, { name: "bentoc", version: this.options.manifest.compiler, extensions: ["binary_tensor_data"] });
      case "/metrics":
        if (!isGet) return ex.fail(new MethodNotAllowed(["GET", "HEAD"]), hasBody);
        metricsText(this.telemetry).then(
          (text) => ex.send(200, "text/plain; version=0.0.4; charset=utf-8", text),
          (err: unknown) => ex.fail(err),
        );
        return;
    }

    const m = MODEL_PATH.exec(path);
    if (!m) return ex.fail(new NotFound(`no route for ${method} ${path}`), hasBody);
    const name = decodeURIComponent(m[1]!);
    const model = this.models.get(name);
    if (!model) return ex.fail(new NotFound(`unknown model ${name}; this server hosts ${[...new Set([...this.models.values()].map((x) => x.name))].join(", ")}`), hasBody);
    const version = m[2];
    if (version !== undefined && decodeURIComponent(version) !== this.version) {
      return ex.fail(new NotFound(`model ${name} has no version ${version} (versions: ${this.version})`), hasBody);
    }
    const action = m[3];
    if (action === "/infer") {
      if (method !== "POST") return ex.fail(new MethodNotAllowed(["POST"]), hasBody);
      return this.infer(ex, req, model);
    }
    if (!isGet) return ex.fail(new MethodNotAllowed(["GET", "HEAD"]), hasBody);
    if (action === "/ready") {
      return this.ready ? ex.json(200, { name: model.name, ready: true }) : ex.send(503, JSON_CT, JSON.stringify({ name: model.name, ready: false, error: this.notReadyReason() }));
    }
    const info: Parameters<typeof modelMetadata>[1] = { version: this.version };
    if (this.graph) info.graph = this.graph;
    return ex.json(200, modelMetadata(model, info));
  }

  infer(ex: Exchange, req: HttpRequest, model: RunnerModel): void {
    const headerLength = req.getHeader("inference-header-content-length");
    const traceparent = req.getHeader("traceparent") || undefined;
    const timeoutHeader = Number(req.getHeader(TIMEOUT_HEADER));
    const contentLength = Number(req.getHeader("content-length") || 0);
    ex.endpoint = `/v2/models/${model.name}/infer`;
    try {
      this.telemetry.requestStarted(ex.endpoint);
      ex.span = this.telemetry.startRequestSpan(`POST ${ex.endpoint}`, traceparent);
    } catch (err) {
      this.logger.warn("telemetry failed", { err });
    }
    const maxBody = this.options.config.server.maxBodyBytes;
    if (contentLength > maxBody) return ex.fail(new PayloadTooLarge(maxBody), true);
    if (!this.ready) return ex.fail(new ServiceUnavailable(this.notReadyReason(), this.draining ? "shutting_down" : "not_ready"), true);

    const timeoutMs = Number.isFinite(timeoutHeader) && timeoutHeader > 0 ? Math.min(timeoutHeader, this.options.config.server.timeoutMs) : this.options.config.server.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    ex.controller = new AbortController();
    ex.timer = setTimeout(() => {
      try {
        const err = new GatewayTimeout(timeoutMs);
        ex.controller?.abort(err);
        ex.fail(err, true);
      } catch (err) {
        this.logger.error("timeout handling failed", { err });
      }
    }, timeoutMs);

    const chunks: Buffer[] = [];
    let received = 0;
    ex.res.onData((ab, isLast) => {
      if (ex.done) return;
      try {
        received += ab.byteLength;
        if (received > maxBody) return ex.fail(new PayloadTooLarge(maxBody), true);
        chunks.push(Buffer.from(new Uint8Array(ab))); // copy: uWS reuses `ab` after this call
        if (!isLast) return;
        ex.bytesIn = received;
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
        chunks.length = 0;
        this.run(ex, model, body, headerLength, deadline, ex.span?.traceparent ?? traceparent);
      } catch (err) {
        ex.fail(err);
      }
    });
  }

  run(ex: Exchange, model: RunnerModel, body: Buffer, headerLength: string, deadline: number, traceparent: string | undefined): void {
    let items: unknown[];
    let request: ReturnType<typeof decodeInferRequest>;
    try {
      request = decodeInferRequest(body, headerLength);
      if (request.inputs.length !== 1) {
        throw new BadRequest(`model ${model.name} takes exactly one input tensor (${INPUT_TENSOR}); got ${request.inputs.length}`, "invalid_input", [{ path: "/inputs", message: "must hold one tensor" }]);
      }
      const unknown = request.outputs?.find((o) => o.name !== OUTPUT_TENSOR);
      if (unknown) throw new BadRequest(`model ${model.name} has no output ${unknown.name} (outputs: ${OUTPUT_TENSOR})`, "invalid_input", [{ path: "/outputs", message: `unknown output ${unknown.name}` }]);
      items = tensorToItems(request.inputs[0]!, model.inputKind);
    } catch (err) {
      return ex.fail(err);
    }
    const handle = this.host.handle(model.runner.name);
    handle.call(model.method.name, items, { signal: ex.controller?.signal, traceparent, deadline }).then(
      (results) => {
        if (ex.done) return;
        try {
          const response: V2InferResponse = { model_name: model.name, model_version: this.version, outputs: [itemsToTensor(OUTPUT_TENSOR, results, model.outputKind)] };
          if (request.id !== undefined) response.id = request.id;
          const enc = encodeInferResponse(response, (n) => wantsBinaryOutput(request, n));
          ex.send(200, enc.headers["content-type"] ?? JSON_CT, enc.body, withoutContentType(enc.headers));
        } catch (err) {
          ex.fail(err);
        }
      },
      (err: unknown) => ex.fail(err),
    );
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`could not listen on ${host}:${port} (port in use or not permitted)`));
        this.listenSocket = socket;
        this.port = uws.us_socket_local_port(socket);
        resolve();
      });
    });
  }

  stopListening(): void {
    if (this.listenSocket) {
      uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = false;
    }
  }

  whenIdle(timeoutMs: number): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  const { "content-type": _ct, ...rest } = headers;
  return rest;
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
  const logger = options.logger ?? createLogger({ level: options.config.logging.level });
  const telemetry = options.telemetry ?? noopTelemetry;
  // Only this runner, and in this process: a `url` for it in the config points at this very server.
  const manifest: Manifest = { ...options.manifest, runners: [runner], service: { ...options.manifest.service, dependencies: [] } };
  const own = options.config.runners[runner.name];
  const config: BentocConfig = own?.url ? { ...options.config, runners: { ...options.config.runners, [runner.name]: { ...own, url: null } } } : options.config;
  const host = createRunnerHost(manifest, options.module, config, { ...(options.bundlePath ? { bundlePath: options.bundlePath } : {}), telemetry });
  const server = new Server({ ...options, manifest, config }, host, telemetry, logger);
  await server.listen(options.host, options.port);
  try {
    const [, graph] = await Promise.all([host.start(), readGraph(runner.model, config.home)]);
    server.graph = graph;
  } catch (err) {
    server.closed = true;
    server.stopListening();
    await host.stop().catch(() => undefined);
    throw err;
  }
  const shown = options.host === "0.0.0.0" || options.host === "" || options.host === "::" ? "127.0.0.1" : options.host;
  let stopping: Promise<void> | undefined;
  return {
    get port() {
      return server.port;
    },
    url: `http://${shown.includes(":") ? `[${shown}]` : shown}:${server.port}`,
    host,
    get inflight() {
      return server.inflight;
    },
    drain(graceMs) {
      stopping ??= (async () => {
        server.draining = true;
        server.stopListening();
        await server.whenIdle(graceMs);
        await host.stop().catch((err: unknown) => logger.error("stopping the runner failed", { err }));
        server.closed = true;
        for (const ex of [...server.open]) ex.fail(new ServiceUnavailable("runner server is shutting down", "shutting_down"), true);
      })();
      return stopping;
    },
    async close() {
      server.draining = true;
      server.closed = true;
      server.stopListening();
      for (const ex of [...server.open]) ex.fail(new ServiceUnavailable("runner server is shutting down", "shutting_down"), true);
      await host.stop().catch(() => undefined);
      logger.flush();
    },
  };
}
