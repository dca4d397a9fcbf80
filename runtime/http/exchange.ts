/**
 * One HTTP exchange, from the request's arrival to its last byte: every response goes through `send` or
 * `fail` (once; later calls are no-ops), and `finish` runs exactly once per exchange — after a response,
 * or when the client went away (status 499 in the log). The exchange owns the request's abort signal
 * (client gone, timeout) and its deadline.
 */
import type { Logger } from "../logging/logger.ts";
import type { SpanHandle } from "../observability/telemetry.ts";
import type { CorsPolicy } from "./cors.ts";
import { errorAnswer } from "./error-responder.ts";
import type { HeaderList, OutgoingBody, TransportResponse } from "./transport.ts";

const JSON_TYPE = "application/json";

/** What an exchange needs from its server. */
export interface ExchangeHost {
  readonly logger: Logger;
  /** Draining: every response closes its connection. */
  readonly draining: boolean;
  readonly cors: CorsPolicy | undefined;
  /** An exchange became an API or inference request (metrics: requests in flight). */
  started(endpoint: string): void;
  /** Called once per exchange when it is over. */
  finished(ex: Exchange, status: number, bytesOut: number): void;
}

export class Exchange {
  done = false;
  aborted = false;
  /** The whole body arrived (a timeout after this is the handler's: 504; before, the client's: 408). */
  bodyReceived = false;
  bytesIn = 0;
  /** `performance.now()` past which the request times out (0: never). */
  deadlineAt = 0;
  /** The metrics endpoint of an API or inference request (undefined for health, docs, …). */
  endpoint: string | undefined;
  span: SpanHandle | undefined;
  /** What a 5xx came from, for the span. */
  error: unknown;
  /** Runs once when the exchange is over (a route's own bookkeeping). */
  onFinish: (() => void) | undefined;
  readonly start = performance.now();
  /** Created on first use of `signal()`: most requests never need one. */
  private controller: AbortController | undefined;
  private abortReason: unknown;

  constructor(
    readonly host: ExchangeHost,
    readonly res: TransportResponse,
    readonly method: string,
    readonly path: string,
    readonly requestId: string,
    /** The request's `Origin` header when CORS is on ("" otherwise). */
    readonly origin: string,
  ) {}

  /** Counts this exchange as a request to `endpoint` (request metrics; the span ends with the exchange). */
  countAs(endpoint: string, span: SpanHandle | undefined): void {
    this.endpoint = endpoint;
    this.span = span;
    this.host.started(endpoint);
  }

  send(status: number, contentType: string, body: OutgoingBody, headers?: HeaderList, close = false): void {
    if (this.done) return;
    this.done = true;
    const bytesOut = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    if (!this.aborted) {
      const out: HeaderList = ["content-type", contentType, "x-request-id", this.requestId];
      if (headers) for (let i = 0; i < headers.length; i++) out.push(headers[i] as string);
      if (this.origin) this.host.cors?.addResponseHeaders(this.origin, out);
      try {
        this.res.end(status, out, body, close || this.host.draining, this.method === "HEAD");
      } catch (err) {
        this.host.logger.error("writing the response failed", { requestId: this.requestId, err });
      }
    }
    this.finish(status, bytesOut);
  }

  json(status: number, value: unknown, headers?: HeaderList): void {
    this.send(status, JSON_TYPE, JSON.stringify(value), headers);
  }

  /** Answers `err` with the catalogue's status and the standard error body. */
  fail(err: unknown, close = false): void {
    if (this.done) return;
    const answer = errorAnswer(err, this.requestId);
    if (answer.internal) {
      this.host.logger.error("request failed", { requestId: this.requestId, method: this.method, path: this.path, err, traceparent: this.span?.traceparent });
    }
    this.span?.setAttribute("error.code", answer.body.code);
    if (answer.status >= 500) this.error = err;
    this.send(answer.status, JSON_TYPE, JSON.stringify(answer.body), answer.headers, close);
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

  /** The client went away: nothing more is written; the exchange ends as 499. */
  clientGone(): void {
    this.aborted = true;
    this.abort(new Error("client disconnected"));
    if (!this.done) {
      this.done = true;
      this.finish(499, 0);
    }
  }

  private finish(status: number, bytesOut: number): void {
    const release = this.onFinish;
    this.onFinish = undefined;
    try {
      release?.();
    } catch (err) {
      this.host.logger.error("request bookkeeping failed", { requestId: this.requestId, err });
    }
    this.host.finished(this, status, bytesOut);
  }
}
