/**
 * The API server on uWebSockets.js. One catch-all route dispatches by path and method to the current
 * `ServiceState`, so a hot reload swaps one reference: new requests see the new version while in-flight
 * ones finish on the old. uWS rules kept here: nothing touches a response after `onAborted`; body chunks
 * are copied (or decoded synchronously inside the callback); writes outside a uWS callback are corked;
 * every callback is wrapped so no exception ever crosses into uWS.
 */
import { randomUUID } from "node:crypto";
import uws from "uWebSockets.js";
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from "uWebSockets.js";
import type { Context } from "../../sdk/types.ts";
import type { BentocConfig } from "../config/config-types.ts";
import { isHttpError, toErrorResponse } from "../errors/error-response.ts";
import {
  BadRequest,
  GatewayTimeout,
  RequestTimeout,
  MethodNotAllowed,
  NotFound,
  PayloadTooLarge,
  ServiceUnavailable,
  TooManyRequests,
} from "../errors/http-errors.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { noopTelemetry, type SpanHandle, type Telemetry } from "../observability/telemetry.ts";
import { docsAsset, docsPage } from "./docs-assets.ts";
import { statusLine } from "./http-status.ts";
import { createServiceState, normalisePath, type ApiRoute, type ServiceState, type ServiceVersion } from "./service-state.ts";
import { metricsText } from "./metrics-text.ts";
import { parseBatchingChange } from "./batching-change.ts";
import { runInCallScope } from "../runners/call-scope.ts";
import type { BatchingChange, RunnerCallOptions } from "../runners/runner-host.ts";

export interface StartServerOptions extends ServiceVersion {
  config: BentocConfig;
  telemetry?: Telemetry;
  logger?: Logger;
}

export interface ApiServer {
  readonly port: number;
  readonly url: string;
  /**
   * Hot reload: builds the next version (instance + `setup()`), then routes new requests to it; resolves
   * once the old version's in-flight requests finished, after stopping the old runner host (unless the
   * same host is passed again). On failure the old version keeps serving and the promise rejects.
   */
  swap(next: ServiceVersion): Promise<void>;
  /** Stops accepting connections and waits for in-flight requests, up to `graceMs`. */
  drain(graceMs: number): Promise<void>;
  /** Closes the listen socket; requests still open get 503. Does not stop the runner host. */
  close(): Promise<void>;
  /** Requests being served right now. */
  readonly inflight: number;
  /** The version being served. */
  readonly current: ServiceState;
}

const ADMIN_BATCHING = "/_bentoc/batching";
const BUILTIN_GET = new Set(["/livez", "/readyz", "/metrics", "/docs", "/docs.json"]);
const JSON_CT = "application/json";
const REQUEST_ID_RE = /^[\w.:@/+=-]{1,200}$/;

/** State of one HTTP exchange; all response writes go through `send`. */
class Exchange {
  aborted = false;
  done = false;
  /** The whole body arrived (a timeout after this is the handler's: 504; before, the client's: 408). */
  bodyReceived = false;
  bytesIn = 0;
  /** `performance.now()` past which an API request times out (0: no timeout); see `Server.expire`. */
  deadlineAt = 0;
  /** Created on first use of `signal()`: most requests never need one, and they cost ~1 µs each. */
  controller: AbortController | undefined;
  abortReason: unknown;
  state: ServiceState | undefined;
  endpoint: string | undefined;
  span: SpanHandle | undefined;
  error: unknown;
  origin: string;
  readonly start = performance.now();

  constructor(
    readonly server: Server,
    readonly res: HttpResponse,
    readonly method: string,
    readonly path: string,
    readonly requestId: string,
    origin: string,
  ) {
    this.origin = origin;
  }

  send(status: number, contentType: string, body: string | Uint8Array, headers?: Record<string, string>, closeConnection = false): void {
    if (this.done) return;
    this.done = true;
    const bytesOut = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    if (!this.aborted) {
      const close = closeConnection || this.server.draining;
      try {
        this.res.cork(() => {
          this.res.writeStatus(statusLine(status));
          this.res.writeHeader("content-type", contentType);
          this.res.writeHeader("x-request-id", this.requestId);
          if (headers) for (const k in headers) this.res.writeHeader(k, headers[k] as string);
          if (this.origin) this.server.writeCors(this.res, this.origin);
          if (this.method === "HEAD") this.res.endWithoutBody(bytesOut, close);
          else this.res.end(body, close);
        });
      } catch (err) {
        this.server.logger.error("writing the response failed", { requestId: this.requestId, err });
      }
    }
    this.finish(status, bytesOut);
  }

  fail(err: unknown, closeConnection = false): void {
    if (this.done) return;
    const r = toErrorResponse(err, this.requestId);
    if (r.internal) {
      this.server.logger.error("request failed", { requestId: this.requestId, method: this.method, path: this.path, err, traceparent: this.span?.traceparent });
    }
    this.span?.setAttribute("error.code", r.body.code);
    if (r.status >= 500) this.error = err;
    this.send(r.status, JSON_CT, JSON.stringify(r.body), r.headers, closeConnection);
  }

  /** The request's abort signal (client gone, timeout); aborted at once if that already happened. */
  signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  onAbort(): void {
    this.aborted = true;
    this.abort(new Error("client disconnected"));
    if (!this.done) {
      this.done = true;
      this.finish(499, 0);
    }
  }

  private finish(status: number, bytesOut: number): void {
    const ms = performance.now() - this.start;
    this.server.finished(this, status);
    if (this.endpoint !== undefined) {
      try {
        this.server.telemetry.requestFinished(this.endpoint, status, ms / 1000);
        this.span?.setAttribute("http.status_code", status);
        this.span?.end(this.error);
      } catch (err) {
        this.server.logger.warn("telemetry failed", { err });
      }
    }
    if (this.server.accessLog) {
      // Built by hand: this runs once per request and JSON.stringify of an object costs more than the rest.
      const tp = this.span?.traceparent;
      this.server.logger.line(
        "info",
        `{"time":"${new Date().toISOString()}","level":"info","msg":"request","method":${JSON.stringify(this.method)},"path":${JSON.stringify(this.path)},` +
          `"status":${status},"durationMs":${Math.round(ms * 1000) / 1000},"requestId":${JSON.stringify(this.requestId)},"bytesIn":${this.bytesIn},"bytesOut":${bytesOut}` +
          (tp && tp.length >= 35 ? `,"traceId":"${tp.slice(3, 35)}"}` : "}"),
      );
    }
  }
}

class Server {
  app: TemplatedApp;
  listenSocket: us_listen_socket | false = false;
  port = 0;
  state!: ServiceState;
  draining = false;
  closed = false;
  inflight = 0;
  apiInflight = 0;
  idleWaiters: (() => void)[] = [];
  open = new Set<Exchange>();
  readonly accessLog: boolean;
  readonly admin: boolean;
  /** Spans are recorded (tracing on): handler spans are started only then. */
  readonly tracing: boolean;
  readonly maxBody: number;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  readonly corsAll: boolean;
  readonly corsOrigins: Set<string>;
  readonly corsEnabled: boolean;
  /** One timer for every request's timeout instead of a setTimeout per request. */
  readonly sweep: NodeJS.Timeout;

  constructor(
    readonly config: BentocConfig,
    readonly telemetry: Telemetry,
    readonly logger: Logger,
  ) {
    const s = config.server;
    this.accessLog = s.accessLog;
    this.admin = s.admin === true;
    this.tracing = (telemetry as { tracingEnabled?: boolean }).tracingEnabled === true;
    this.maxBody = s.maxBodyBytes;
    this.timeoutMs = s.timeoutMs;
    this.maxConcurrency = s.maxConcurrency;
    this.corsEnabled = s.cors.enabled;
    this.corsAll = s.cors.origins.includes("*");
    this.corsOrigins = new Set(s.cors.origins);
    // Resolution of the request timeout: 1/20 of it, between 5 and 100 ms.
    this.sweep = setInterval(() => this.expire(), Math.min(100, Math.max(5, Math.floor(this.timeoutMs / 20))));
    this.sweep.unref();
    this.app = uws.App();
    this.app.any("/*", (res, req) => {
      try {
        this.dispatch(res, req);
      } catch (err) {
        // Last line of defence: never let an exception reach uWS.
        this.logger.error("dispatch failed", { err });
        try {
          res.cork(() => res.writeStatus(statusLine(500)).writeHeader("content-type", JSON_CT).end(JSON.stringify({ error: "Internal Server Error", code: "internal", requestId: "" }), true));
        } catch {
          /* the response was already used */
        }
      }
    });
  }

  writeCors(res: HttpResponse, origin: string): void {
    if (!this.corsEnabled) return;
    if (this.corsAll) res.writeHeader("access-control-allow-origin", "*");
    else if (this.corsOrigins.has(origin)) {
      res.writeHeader("access-control-allow-origin", origin);
      res.writeHeader("vary", "Origin");
    } else return;
    res.writeHeader("access-control-expose-headers", "x-request-id, x-dtype, x-shape, content-disposition");
  }

  finished(ex: Exchange, _status: number): void {
    this.open.delete(ex);
    this.inflight--;
    if (ex.endpoint !== undefined) this.apiInflight--;
    const st = ex.state;
    if (st && --st.inflight === 0) st.onIdle?.();
    if (this.inflight === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  dispatch(res: HttpResponse, req: HttpRequest): void {
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const path = normalisePath(req.getUrl());
    const given = req.getHeader("x-request-id");
    const requestId = given && REQUEST_ID_RE.test(given) ? given : randomUUID();
    const ex = new Exchange(this, res, method, path, requestId, this.corsEnabled ? req.getHeader("origin") : "");
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
    ex.bytesIn = contentLength ? Number(contentLength) || 0 : 0;

    if (this.closed) return ex.fail(new ServiceUnavailable("server is shutting down", "shutting_down"), true);

    const state = this.state;
    const byMethod = state.routes.get(path);
    if (!byMethod && this.admin && path === ADMIN_BATCHING) return this.adminBatching(ex, method, state, hasBody);
    if (!byMethod) {
      if ((method === "GET" || method === "HEAD") && (BUILTIN_GET.has(path) || path.startsWith("/docs/"))) return this.builtin(ex, path, state);
      if (method === "OPTIONS" && (BUILTIN_GET.has(path) || path.startsWith("/docs/"))) return this.options(ex, req, ["GET", "HEAD"]);
      return ex.fail(new NotFound(`no route for ${method} ${path}`), hasBody);
    }
    let route = byMethod.get(method);
    if (!route && method === "HEAD") route = byMethod.get("GET");
    if (!route) {
      const allow = [...byMethod.keys()];
      if (allow.includes("GET")) allow.push("HEAD");
      if (method === "OPTIONS") return this.options(ex, req, allow);
      return ex.fail(new MethodNotAllowed([...allow, "OPTIONS"], `${method} is not allowed on ${path}; use ${allow.join(" or ")}`), hasBody);
    }

    // An API request.
    ex.endpoint = route.api.route;
    ex.state = state;
    state.inflight++;
    this.apiInflight++;
    const traceparent = req.getHeader("traceparent") || undefined;
    try {
      this.telemetry.requestStarted(ex.endpoint);
      ex.span = this.telemetry.startRequestSpan(`${method} ${ex.endpoint}`, traceparent);
      if (this.tracing) ex.span.setAttribute("http.request_id", requestId);
    } catch (err) {
      this.logger.warn("telemetry failed", { err });
    }
    if (this.apiInflight > this.maxConcurrency) {
      return ex.fail(new TooManyRequests(`more than ${this.maxConcurrency} requests in flight`, { maxConcurrency: this.maxConcurrency }), hasBody);
    }
    if (!state.runners.ready) {
      return ex.fail(new ServiceUnavailable("runners are not ready yet", "not_ready", state.runners.status().filter((r) => !r.ready)), hasBody);
    }
    if (ex.bytesIn > this.maxBody) return ex.fail(new PayloadTooLarge(this.maxBody), true);

    ex.deadlineAt = ex.start + this.timeoutMs;
    const headers: Record<string, string> = {};
    if (route.api.takesContext) req.forEach((k, v) => (headers[k] = v));
    else for (const h of route.headers) headers[h] = req.getHeader(h);
    const contentType = req.getHeader("content-type") || undefined;
    const accept = req.getHeader("accept") || undefined;
    const context = route.api.takesContext ? this.makeContext(ex, headers, ex.span?.traceparent ?? traceparent) : undefined;

    if (route.method === "GET") {
      const query = req.getQuery() ?? "";
      let input: unknown;
      try {
        input = route.decodeQuery(query);
      } catch (err) {
        return ex.fail(asClientError(err, this.logger, ex.requestId));
      }
      // GET bodies are ignored; uWS still reads them.
      ex.bodyReceived = true;
      res.onData(() => {});
      return this.invoke(ex, route, input, context, accept);
    }

    let chunks: Buffer[] | undefined;
    let received = 0;
    const meta = { contentType, header: (name: string) => headers[name] || undefined };
    res.onData((ab, isLast) => {
      if (ex.done) return;
      try {
        received += ab.byteLength;
        if (received > this.maxBody) return ex.fail(new PayloadTooLarge(this.maxBody), true);
        if (!isLast) {
          (chunks ??= []).push(Buffer.from(new Uint8Array(ab))); // copy: uWS detaches `ab` after this call
          return;
        }
        ex.bytesIn = received;
        ex.bodyReceived = true;
        let body: Buffer;
        if (chunks) {
          chunks.push(Buffer.from(new Uint8Array(ab)));
          body = Buffer.concat(chunks, received);
          chunks = undefined;
        } else {
          // Decoders for json/text finish synchronously and keep nothing, so they may read uWS's memory.
          body = route.retainsBody ? Buffer.from(new Uint8Array(ab)) : Buffer.from(ab);
        }
        let input: unknown;
        try {
          input = route.decode(body, meta);
        } catch (err) {
          return ex.fail(asClientError(err, this.logger, ex.requestId));
        }
        if (isPromise(input)) {
          input.then(
            (value) => this.invoke(ex, route, value, context, accept),
            (err: unknown) => ex.fail(asClientError(err, this.logger, ex.requestId)),
          );
        } else this.invoke(ex, route, input, context, accept);
      } catch (err) {
        ex.fail(err);
      }
    });
  }

  invoke(ex: Exchange, route: ApiRoute, input: unknown, context: Context | undefined, accept: string | undefined): void {
    if (ex.done) return;
    const handlerSpan = this.tracing ? this.telemetry.startHandlerSpan?.(route.api.route, ex.span?.traceparent) : undefined;
    let out: unknown;
    try {
      if (ex.state && ex.state.runners.runners.length > 0) {
        // Runner calls made by the handler inherit the request's deadline, abort signal and trace context.
        const scope: RunnerCallOptions = {
          get signal() {
            return ex.signal();
          },
          traceparent: handlerSpan?.traceparent ?? ex.span?.traceparent,
          deadline: Date.now() + Math.max(0, this.timeoutMs - (performance.now() - ex.start)),
        };
        out = runInCallScope(scope, this.tracing, route.invoke, input, context);
      } else out = route.invoke(input, context);
    } catch (err) {
      handlerSpan?.end(err);
      return ex.fail(err);
    }
    if (isPromise(out)) {
      out.then(
        (value) => {
          handlerSpan?.end();
          this.reply(ex, route, value, accept);
        },
        (err: unknown) => {
          handlerSpan?.end(err);
          ex.fail(err);
        },
      );
    } else {
      handlerSpan?.end();
      this.reply(ex, route, out, accept);
    }
  }

  /** `GET|POST /_bentoc/batching` (only with `server.admin`): read or change batching settings at run time. */
  adminBatching(ex: Exchange, method: string, state: ServiceState, hasBody: boolean): void {
    const host = state.runners;
    if (!host.batching || !host.reconfigureBatching) return ex.fail(new NotFound("this runner host cannot change batching at run time"), hasBody);
    if (method === "GET") return ex.send(200, JSON_CT, JSON.stringify({ batching: host.batching() }));
    if (method !== "POST") return ex.fail(new MethodNotAllowed(["GET", "POST"], `${method} is not allowed on ${ADMIN_BATCHING}; use GET or POST`), hasBody);
    readSmallBody(ex, this.maxBody, (body) => {
      let change: BatchingChange;
      try {
        change = parseBatchingChange(body);
      } catch (err) {
        return ex.fail(err);
      }
      const reconfigure = host.reconfigureBatching as (c: BatchingChange) => unknown[];
      let batching: unknown[];
      try {
        batching = reconfigure.call(host, change);
      } catch (err) {
        return ex.fail(new BadRequest((err as Error).message, "invalid_input", [{ path: "/runner", message: (err as Error).message }]));
      }
      this.logger.info("batching reconfigured", { change, batching });
      ex.send(200, JSON_CT, JSON.stringify({ batching }));
    });
  }

  reply(ex: Exchange, route: ApiRoute, value: unknown, accept: string | undefined): void {
    if (ex.done) return;
    try {
      const enc = route.encode(value, accept);
      ex.send(200, enc.contentType, enc.body, enc.headers);
    } catch (err) {
      ex.fail(err);
    }
  }

  /**
   * Times out API requests past their deadline. `open` iterates in arrival order and every API deadline is
   * arrival + timeoutMs, so the scan stops at the first API request still in time.
   */
  expire(): void {
    const now = performance.now();
    for (const ex of this.open) {
      if (ex.deadlineAt === 0) continue;
      if (ex.deadlineAt > now) return;
      if (!ex.done) this.timeout(ex);
    }
  }

  timeout(ex: Exchange): void {
    try {
      const err = ex.bodyReceived ? new GatewayTimeout(this.timeoutMs) : new RequestTimeout(this.timeoutMs);
      ex.abort(err);
      ex.fail(err, true);
    } catch (err) {
      this.logger.error("timeout handling failed", { err });
    }
  }

  makeContext(ex: Exchange, headers: Record<string, string>, traceparent: string | undefined): Context {
    const ctx: { requestId: string; headers: Record<string, string>; readonly signal: AbortSignal; traceparent?: string } = {
      requestId: ex.requestId,
      headers,
      get signal() {
        return ex.signal();
      },
    };
    if (traceparent) ctx.traceparent = traceparent;
    return ctx;
  }

  options(ex: Exchange, req: HttpRequest, allow: string[]): void {
    const headers: Record<string, string> = { allow: [...allow, "OPTIONS"].join(", ") };
    if (this.corsEnabled && ex.origin && (this.corsAll || this.corsOrigins.has(ex.origin))) {
      headers["access-control-allow-methods"] = headers["allow"] as string;
      headers["access-control-allow-headers"] = req.getHeader("access-control-request-headers") || "content-type, x-request-id, traceparent";
      headers["access-control-max-age"] = "600";
    }
    ex.send(204, "text/plain", "", headers);
  }

  builtin(ex: Exchange, path: string, state: ServiceState): void {
    switch (path) {
      case "/livez":
        return ex.send(200, JSON_CT, '{"status":"ok"}');
      case "/readyz": {
        const runners = state.runners.status();
        if (state.runners.ready && !this.draining) return ex.send(200, JSON_CT, JSON.stringify({ status: "ready", runners }));
        const reason = this.draining ? "shutting down" : "runners are not ready";
        return ex.fail(new ServiceUnavailable(reason, this.draining ? "shutting_down" : "not_ready", { runners }));
      }
      case "/metrics":
        metricsText(this.telemetry).then(
          (text) => ex.send(200, "text/plain; version=0.0.4; charset=utf-8", text),
          (err: unknown) => ex.fail(err),
        );
        return;
      case "/docs":
        return ex.send(200, "text/html; charset=utf-8", docsPage(state.manifest.service.name));
      case "/docs.json":
        return ex.send(200, JSON_CT, state.openapi);
      default: {
        const asset = docsAsset(path.slice("/docs/".length));
        if (!asset) return ex.fail(new NotFound(`no route ${path}`));
        return ex.send(200, asset.contentType, asset.body, { "cache-control": "public, max-age=3600" });
      }
    }
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

/**
 * Decoding reads only the client's bytes, so whatever it throws (a RangeError on absurdly nested JSON,
 * a codec library's own error) is the client's mistake: 400, never 500.
 */
function asClientError(err: unknown, logger: Logger, requestId: string): unknown {
  if (isHttpError(err)) return err;
  logger.warn("input could not be decoded", { requestId, err });
  return new BadRequest("request body could not be decoded", "malformed_body", [{ path: "", message: err instanceof RangeError ? "is too large or too deeply nested" : "could not be decoded" }]);
}

/** Reads a whole (small) body, copying each chunk; `done` runs once with it unless the exchange ended. */
function readSmallBody(ex: Exchange, maxBody: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  ex.res.onData((ab, isLast) => {
    try {
      if (ex.done) return;
      received += ab.byteLength;
      if (received > maxBody) return ex.fail(new PayloadTooLarge(maxBody), true);
      chunks.push(Buffer.from(new Uint8Array(ab)));
      if (isLast) {
        ex.bodyReceived = true;
        ex.bytesIn = received;
        done(Buffer.concat(chunks, received));
      }
    } catch (err) {
      ex.fail(err);
    }
  });
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
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

export async function startServer(options: StartServerOptions): Promise<ApiServer> {
  const logger = options.logger ?? createLogger({ level: options.config.logging.level });
  const telemetry = options.telemetry ?? noopTelemetry;
  const server = new Server(options.config, telemetry, logger);
  server.state = await createServiceState(options);
  const host = options.config.server.host;
  await server.listen(host, options.config.server.port);
  const shownHost = host === "0.0.0.0" || host === "" || host === "::" ? "127.0.0.1" : host;
  let swapping: Promise<void> = Promise.resolve();

  return {
    get port() {
      return server.port;
    },
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${server.port}`,
    get inflight() {
      return server.inflight;
    },
    get current() {
      return server.state;
    },
    swap(next) {
      const run = async (): Promise<void> => {
        const fresh = await createServiceState(next);
        const old = server.state;
        server.state = fresh;
        logger.info("service swapped", { service: next.manifest.service.name, version: next.manifest.service.version });
        await waitIdle(old);
        if (old.runners !== next.runners) await old.runners.stop();
      };
      swapping = swapping.then(run, run);
      return swapping;
    },
    async drain(graceMs) {
      server.draining = true;
      server.stopListening();
      await server.whenIdle(graceMs);
      // The last responses may still sit in uWS's cork buffer (flushed when control returns to the loop);
      // give the loop a turn so a process.exit() right after drain does not cut them off.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 0));
    },
    async close() {
      server.draining = true;
      server.closed = true;
      clearInterval(server.sweep);
      server.stopListening();
      for (const ex of [...server.open]) ex.fail(new ServiceUnavailable("server is shutting down", "shutting_down"), true);
      logger.flush();
    },
  };
}
