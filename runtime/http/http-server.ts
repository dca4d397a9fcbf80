/**
 * The HTTP server both bentoc servers are built on (the API server and the runner server are route tables
 * over it). It owns what every request has in common: the request id, the exchange and its bookkeeping,
 * routing with 404/405 (and HEAD, OPTIONS and CORS preflights), one timer for every request's deadline
 * (408 while the body is still arriving, 504 after), the access log, protocol errors from the backend,
 * listening on an exclusive port, draining and closing.
 */

import { ERROR_CATALOGUE } from "../../contract/error-catalogue.ts";
import { GatewayTimeout, MethodNotAllowed, type NotFound, PayloadTooLarge, RequestTimeout, ServiceUnavailable } from "../errors/http-errors.ts";
import type { Logger, LogLevel } from "../logging/logger.ts";
import type { RequestMetrics } from "../observability/telemetry.ts";
import { accessLine } from "./access-log.ts";
import type { CorsPolicy } from "./cors.ts";
import { Exchange, type ExchangeHost } from "./exchange.ts";
import { tuneHeapForServing } from "./heap-tuning.ts";
import { newRequestId } from "./request-id.ts";
import type { HeaderList, HttpTransport, ListenTarget, ProtocolError, TransportRequest, TransportResponse } from "./transport.ts";

/** Handles one routed request: reads what it needs from `req` now, answers through `ex` (now or later). */
export type RouteHandler = (ex: Exchange, req: TransportRequest) => void;

/** What a router answers for a method and path: the handler, or the 404/405 to send. */
export type RouteMatch = RouteHandler | NotFound | MethodNotAllowed;

export interface Router {
  route(method: string, path: string): RouteMatch;
}

export interface HttpServerOptions {
  transport: HttpTransport;
  router: Router;
  logger: Logger;
  /** Request counts and durations of exchanges that set an `endpoint`. */
  metrics: RequestMetrics;
  /** Every request's time limit (a route may shorten it): 408 before the body arrived, 504 after. */
  timeoutMs: number;
  /** Largest request body: a larger Content-Length is answered 413 before routing, without reading the body. */
  maxBodyBytes: number;
  cors: CorsPolicy | undefined;
  /** The access log's level for a path (undefined: not logged); undefined: no access log. */
  accessLog: ((path: string) => LogLevel | undefined) | undefined;
}

export interface HttpServer {
  readonly backend: "uws" | "node";
  readonly port: number;
  /** Exchanges not finished yet. */
  readonly inflight: number;
  readonly draining: boolean;
  listen(target: ListenTarget): Promise<number>;
  /** Stops accepting connections and waits for in-flight exchanges, up to `graceMs`. */
  drain(graceMs: number): Promise<void>;
  /** Answers every open exchange 503 `shutting_down` and closes every connection. */
  close(): void;
}

const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/** `/a/b/` and `/a/b` are the same route. */
export function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

class Server implements ExchangeHost {
  port = 0;
  draining = false;
  closed = false;
  readonly open = new Set<Exchange>();
  private idleWaiters: (() => void)[] = [];
  readonly sweep: NodeJS.Timeout;
  readonly logger: Logger;
  readonly cors: CorsPolicy | undefined;
  readonly countsBytesOut: boolean;

  constructor(readonly options: HttpServerOptions) {
    this.logger = options.logger;
    this.cors = options.cors;
    this.countsBytesOut = options.accessLog !== undefined;
    // One timer for every request's deadline; resolution 1/20 of the timeout, between 5 and 100 ms.
    this.sweep = setInterval(() => this.expire(), Math.min(100, Math.max(5, Math.floor(options.timeoutMs / 20))));
    this.sweep.unref();
  }

  dispatch(req: TransportRequest, res: TransportResponse): void {
    const given = req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : newRequestId();
    const path = normalisePath(req.path);
    const ex = new Exchange(this, res, req.method, path, requestId, this.cors ? req.header("origin") : "");
    ex.deadlineAt = ex.start + this.options.timeoutMs;
    this.open.add(ex);
    res.onAborted(() => {
      try {
        ex.clientGone();
      } catch (err) {
        this.logger.error("abort handling failed", { err });
      }
    });
    if (this.closed) return ex.fail(new ServiceUnavailable("server is shutting down", "shutting_down"), true);
    const contentLength = req.contentLength;
    if (contentLength !== "" && Number(contentLength) > this.options.maxBodyBytes) return ex.fail(new PayloadTooLarge(this.options.maxBodyBytes), true);
    try {
      const match = this.match(req.method, path);
      if (typeof match === "function") return match(ex, req);
      if (req.method === "OPTIONS" && match instanceof MethodNotAllowed) return this.preflight(ex, req, match.allow);
      ex.fail(match, hasBody(req));
    } catch (err) {
      ex.fail(err, true);
    }
  }

  /** The route; HEAD falls back to GET; a 405 lists HEAD with GET, and OPTIONS. */
  private match(method: string, path: string): ReturnType<Router["route"]> {
    const { router } = this.options;
    let match = router.route(method, path);
    if (method === "HEAD" && match instanceof MethodNotAllowed && match.allow.includes("GET")) match = router.route("GET", path);
    if (match instanceof MethodNotAllowed) {
      const allow = [...match.allow];
      if (allow.includes("GET") && !allow.includes("HEAD")) allow.push("HEAD");
      if (!allow.includes("OPTIONS")) allow.push("OPTIONS");
      const shown = allow.filter((m) => m !== "OPTIONS" && m !== "HEAD");
      return new MethodNotAllowed(allow, `${method} is not allowed on ${path}; use ${shown.join(" or ")}`);
    }
    return match;
  }

  private preflight(ex: Exchange, req: TransportRequest, allow: readonly string[]): void {
    const headers: HeaderList = ["allow", allow.join(", ")];
    if (ex.origin) this.cors?.addPreflightHeaders(ex.origin, allow.join(", "), req.header("access-control-request-headers"), headers);
    ex.bodyReceived = true;
    ex.send(204, "text/plain", "", headers);
  }

  started(endpoint: string): void {
    try {
      this.options.metrics.requestStarted(endpoint);
    } catch (err) {
      this.logger.warn("telemetry failed", { err });
    }
  }

  finished(ex: Exchange, status: number, bytesOut: number): void {
    this.open.delete(ex);
    const ms = performance.now() - ex.start;
    if (ex.endpoint !== undefined) {
      try {
        this.options.metrics.requestFinished(ex.endpoint, status, ms / 1000);
        if (ex.span) {
          ex.span.setAttribute("http.status_code", status);
          ex.span.end(ex.error ?? (status >= 500 ? new Error(`status ${status}`) : undefined));
        }
      } catch (err) {
        this.logger.warn("telemetry failed", { err });
      }
    }
    const level = this.options.accessLog?.(ex.path);
    if (level !== undefined && this.logger.enabled(level)) {
      this.logger.line(
        level,
        accessLine(level === "debug" ? "debug" : "info", {
          method: ex.method,
          path: ex.path,
          status,
          durationMs: ms,
          requestId: ex.requestId,
          bytesIn: ex.bytesIn,
          bytesOut,
          traceparent: ex.span?.traceparent,
        }),
      );
    }
    if (this.open.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Times out exchanges past their deadline: 408 while the body is still arriving, 504 after. */
  expire(): void {
    const now = performance.now();
    for (const ex of this.open) {
      if (ex.deadlineAt === 0 || ex.deadlineAt > now) continue;
      if (ex.streaming) {
        // A started stream cannot change its status: its handler ends it with an error event.
        ex.deadlineAt = 0;
        ex.abort(ex.streamTimeout ?? new GatewayTimeout(Math.round(now - ex.start)));
        continue;
      }
      if (ex.done) continue;
      try {
        const ms = Math.round(ex.deadlineAt - ex.start);
        const err = ex.bodyReceived ? new GatewayTimeout(ms) : new RequestTimeout(ms);
        ex.abort(err);
        ex.fail(err, true);
      } catch (err) {
        this.logger.error("timeout handling failed", { err });
      }
    }
  }

  /** The answer to a request the backend could not parse; logged like any request. */
  protocolError(error: ProtocolError): { status: number; headers: HeaderList; body: string } {
    const requestId = newRequestId();
    const status = ERROR_CATALOGUE[error.code].status;
    const body = JSON.stringify({ error: error.message, code: error.code, requestId });
    this.logger.warn("malformed request", { requestId, status, code: error.code, reason: error.message });
    return { status, headers: ["content-type", "application/json", "x-request-id", requestId], body };
  }

  whenIdle(timeoutMs: number): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

function hasBody(req: TransportRequest): boolean {
  const cl = req.contentLength;
  return (cl !== "" && cl !== "0") || req.header("transfer-encoding") !== "";
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  tuneHeapForServing();
  const server = new Server(options);
  const { transport } = options;
  return {
    backend: transport.backend,
    get port() {
      return server.port;
    },
    get inflight() {
      return server.open.size;
    },
    get draining() {
      return server.draining;
    },
    async listen(target) {
      server.port = await transport.listen(
        target,
        (req, res) => server.dispatch(req, res),
        (error) => server.protocolError(error),
      );
      return server.port;
    },
    async drain(graceMs) {
      server.draining = true;
      transport.stopListening();
      await server.whenIdle(graceMs);
      // Streams still open after the grace period end now, with a `shutting_down` error event (before the
      // runners they may be calling stop).
      for (const ex of [...server.open]) if (ex.streaming) ex.abort(new ServiceUnavailable("server is shutting down", "shutting_down"));
      // The last responses may still sit in the backend's buffers (uWS flushes its cork buffer when
      // control returns to the loop): give the loop a turn so an exit right after drain does not cut them.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 0));
    },
    close() {
      server.draining = true;
      server.closed = true;
      clearInterval(server.sweep);
      transport.stopListening();
      for (const ex of [...server.open]) {
        if (ex.streaming) ex.abort(new ServiceUnavailable("server is shutting down", "shutting_down"));
        else ex.fail(new ServiceUnavailable("server is shutting down", "shutting_down"), true);
      }
      // A turn later, so that the answers just written leave before their connections close.
      setImmediate(() => transport.closeAll());
    },
  };
}
