/**
 * One HTTP exchange, from the request's arrival to its last byte: every response goes through `send` or
 * `fail` (once; later calls are no-ops), and `finish` runs exactly once per exchange — after a response,
 * or when the client went away (status 499 in the log). The exchange owns the request's abort signal
 * (client gone, timeout) and its deadline.
 *
 * A streamed response (`startStream`, `write`, `endStream`) counts as answered once its head is out
 * (`done`: `send`/`fail` are no-ops from then on) and finishes when it ends or the client leaves.
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
  /** Whether `finished` uses the response's size (the access log does): when not, it is not measured. */
  readonly countsBytesOut: boolean;
  /** An exchange became an API or inference request (metrics: requests in flight). */
  started(endpoint: string): void;
  /** Called once per exchange when it is over. */
  finished(ex: Exchange, status: number, bytesOut: number): void;
}

/** A route's bookkeeping for an exchange (e.g. requests in flight), told once when the exchange is over. */
export interface FinishListener {
  exchangeFinished(): void;
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
  /** What a streamed response's deadline aborts it with (set by the stream's owner). */
  streamTimeout: unknown;
  /** A streamed response's head is out; `finish` runs at `endStream` or when the client leaves. */
  streaming = false;
  private streamBytes = 0;
  private streamStatus = 0;
  /** Told once when the exchange is over (a route's own bookkeeping). */
  finishListener: FinishListener | undefined;
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
    const bytesOut = typeof body !== "string" ? body.byteLength : this.host.countsBytesOut ? Buffer.byteLength(body) : 0;
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
    } else if (answer.status >= 502 && err instanceof Error && err.cause !== undefined) {
      // An upstream (a remote runner) failed: the answer names it; the log says where and how.
      this.host.logger.warn("upstream failed", { requestId: this.requestId, path: this.path, code: answer.body.code, cause: err.cause });
    }
    this.span?.setAttribute("error.code", answer.body.code);
    if (answer.status >= 500) this.error = err;
    this.send(answer.status, JSON_TYPE, JSON.stringify(answer.body), answer.headers, close);
  }

  /** Starts a streamed response (no Content-Length): the head now, the body with `write`. */
  startStream(status: number, contentType: string, headers?: HeaderList): void {
    if (this.done) return;
    this.done = true;
    this.streaming = true;
    this.streamStatus = status;
    if (this.aborted) return;
    const out: HeaderList = ["content-type", contentType, "x-request-id", this.requestId, "cache-control", "no-cache"];
    if (headers) for (let i = 0; i < headers.length; i++) out.push(headers[i] as string);
    if (this.origin) this.host.cors?.addResponseHeaders(this.origin, out);
    if (this.host.draining) out.push("connection", "close");
    this.res.writeHead(status, out);
  }

  /** Writes a chunk of the streamed response; false when the backend is buffering (then wait for `onWritable`). */
  write(chunk: OutgoingBody): boolean {
    if (!this.streaming || this.aborted) return true;
    this.streamBytes += typeof chunk !== "string" ? chunk.byteLength : this.host.countsBytesOut ? Buffer.byteLength(chunk) : 0;
    return this.res.write(chunk);
  }

  /** Calls `handler` once when the output buffered after a `false` from `write` has drained. */
  onWritable(handler: () => void): void {
    if (!this.aborted) this.res.onWritable(handler);
  }

  /** Ends the streamed response and finishes the exchange (once). */
  endStream(): void {
    if (!this.streaming || this.streamStatus === 0) return;
    const status = this.streamStatus;
    this.streamStatus = 0;
    if (!this.aborted) {
      try {
        this.res.endStream(this.host.draining);
      } catch (err) {
        this.host.logger.error("ending the stream failed", { requestId: this.requestId, err });
      }
    }
    // A stream its client left is logged and counted as 499, like any request the client left.
    this.finish(this.aborted ? 499 : status, this.streamBytes);
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
    } else if (this.streaming && this.streamStatus !== 0) {
      // A stream cut short by its client: logged as 499 like any request the client left.
      this.streamStatus = 0;
      this.finish(499, this.streamBytes);
    }
  }

  private finish(status: number, bytesOut: number): void {
    const listener = this.finishListener;
    this.finishListener = undefined;
    try {
      listener?.exchangeFinished();
    } catch (err) {
      this.host.logger.error("request bookkeeping failed", { requestId: this.requestId, err });
    }
    this.host.finished(this, status, bytesOut);
  }
}
