/**
 * One API request, from routing to response: counts it (metrics, span), refuses it while the runners are
 * not ready, reads and decodes the body (or the query), enforces `maxConcurrency` over requests whose
 * handler runs, calls the handler inside the request's call scope (runner calls inherit its deadline,
 * abort signal and trace context across awaits) and encodes what it returns.
 */
import type { Context } from "../../sdk/types.ts";
import { ServiceUnavailable, TooManyRequests } from "../errors/http-errors.ts";
import { readBody, skipBody } from "../http/body-reader.ts";
import { asClientError } from "../http/error-responder.ts";
import type { Exchange, FinishListener } from "../http/exchange.ts";
import type { TransportRequest } from "../http/transport.ts";
import type { RequestMeta } from "../io/decode-input.ts";
import type { Logger } from "../logging/logger.ts";
import type { RequestMetrics, RequestTracing, SpanHandle } from "../observability/telemetry.ts";
import { runInCallScope } from "../runners/call-scope.ts";
import type { RunnerCallOptions } from "../runners/runner-host.ts";
import type { ApiRoute, ServiceState } from "./service-state.ts";
import { chooseFraming, NDJSON_TYPE, pumpStream, SSE_TYPE, type StreamSettings } from "./stream-response.ts";

/** What every API request of one server shares. */
export interface ApiRequestContext {
  readonly tracing: RequestTracing;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  /** Stream counts and durations of streaming APIs. */
  readonly metrics: RequestMetrics;
  /** The limits and heartbeat of streaming APIs. */
  readonly stream: StreamSettings;
  /** API handlers running now (bodies received), for `maxConcurrency`. */
  running: number;
}

export function handleApiRequest(ctx: ApiRequestContext, state: ServiceState, route: ApiRoute, ex: Exchange, req: TransportRequest): void {
  const endpoint = route.api.route;
  const traceparent = req.header("traceparent") || undefined;
  let span: SpanHandle | undefined;
  try {
    span = ctx.tracing.startRequestSpan(`${ex.method} ${endpoint}`, traceparent);
    if (ctx.tracing.tracingEnabled) span.setAttribute("http.request_id", ex.requestId);
  } catch (err) {
    ctx.logger.warn("telemetry failed", { err });
  }
  ex.countAs(endpoint, span);
  state.inflight++;
  const call = new ApiCall(ctx, state, route, ex, req, traceparent);
  ex.finishListener = call;
  if (!state.runners.ready) {
    // Answered before the body is read: a body still on its way closes the connection.
    const bodyPending = Number(req.contentLength || 0) > 0 || req.header("transfer-encoding") !== "";
    return ex.fail(
      new ServiceUnavailable(
        "runners are not ready yet",
        "not_ready",
        state.runners.status().filter((r) => !r.ready),
      ),
      bodyPending,
    );
  }
  if (route.method === "GET") skipBody(ex, ctx.maxBodyBytes, () => call.received(undefined));
  else readBody(ex, ctx.maxBodyBytes, route.retainsBody, (body) => call.received(body));
}

/**
 * One API request once routed: what it read from the request head (the transport's request is valid only
 * during the routing call), the decoding of its body or query, and its bookkeeping when it ends. One object
 * per request, which is also the decoder's view of the request (`RequestMeta`).
 */
class ApiCall implements RequestMeta, FinishListener {
  readonly contentType: string | undefined;
  private readonly accept: string | undefined;
  private readonly query: string;
  private readonly headers: Record<string, string> = {};
  private readonly context: Context | undefined;
  /** Counted in `ctx.running` (its handler was called). */
  private counted = false;

  constructor(
    private readonly ctx: ApiRequestContext,
    private readonly state: ServiceState,
    private readonly route: ApiRoute,
    private readonly ex: Exchange,
    req: TransportRequest,
    traceparent: string | undefined,
  ) {
    const headers = this.headers;
    if (route.api.takesContext) req.forEachHeader((k, v) => (headers[k] = v));
    else for (const h of route.headers) headers[h] = req.header(h);
    this.contentType = req.header("content-type") || undefined;
    this.accept = req.header("accept") || undefined;
    this.query = route.method === "GET" ? req.query : "";
    this.context = route.api.takesContext ? makeContext(ex, headers, ex.span?.traceparent ?? traceparent) : undefined;
  }

  header(name: string): string | undefined {
    return this.headers[name] || undefined;
  }

  /** The body arrived (POST), or was read and dropped (GET: the input is the query). */
  received(body: Buffer | undefined): void {
    const { ex, route } = this;
    let input: unknown;
    try {
      input = body === undefined ? route.decodeQuery(this.query) : route.decode(body, this);
    } catch (err) {
      return ex.fail(clientError(this.ctx, ex, err));
    }
    if (isPromise(input)) {
      input.then(
        (value) => this.invoke(value),
        (err: unknown) => ex.fail(clientError(this.ctx, ex, err)),
      );
    } else this.invoke(input);
  }

  private invoke(input: unknown): void {
    const { ctx, ex } = this;
    if (ex.done) return;
    if (ctx.running >= ctx.maxConcurrency) {
      return ex.fail(new TooManyRequests(`more than ${ctx.maxConcurrency} requests in flight`, { maxConcurrency: ctx.maxConcurrency }));
    }
    ctx.running++;
    this.counted = true;
    callHandler(ctx, this.route, ex, input, this.context, this.accept);
  }

  exchangeFinished(): void {
    if (this.counted) this.ctx.running--;
    if (--this.state.inflight === 0) this.state.onIdle?.();
  }
}

function callHandler(ctx: ApiRequestContext, route: ApiRoute, ex: Exchange, input: unknown, context: Context | undefined, accept: string | undefined): void {
  const handlerSpan = ctx.tracing.tracingEnabled ? ctx.tracing.startHandlerSpan(route.api.route, ex.span?.traceparent) : undefined;
  if (route.api.streaming) return callStreamingHandler(ctx, route, ex, input, context, accept, handlerSpan);
  let out: unknown;
  try {
    if (route.api.callsRunners) out = runInCallScope(runnerCallScope(ex, handlerSpan), route.invoke, input, context);
    else out = route.invoke(input, context);
  } catch (err) {
    handlerSpan?.end(err);
    return ex.fail(err);
  }
  if (isPromise(out)) {
    out.then(
      (value) => {
        handlerSpan?.end();
        reply(ex, route, value, accept);
      },
      (err: unknown) => {
        handlerSpan?.end(err);
        ex.fail(err);
      },
    );
  } else {
    handlerSpan?.end();
    reply(ex, route, out, accept);
  }
}

/**
 * A streaming API: the handler's AsyncIterable is pumped to the response (stream-response.ts). The whole
 * pump runs inside the call scope, because the generator's body runs on each `next()`: its runner calls
 * then inherit the request's abort signal, trace context and the stream's current deadline.
 */
function callStreamingHandler(
  ctx: ApiRequestContext,
  route: ApiRoute,
  ex: Exchange,
  input: unknown,
  context: Context | undefined,
  accept: string | undefined,
  handlerSpan: SpanHandle | undefined,
): void {
  const framing = chooseFraming(accept);
  if (ex.method === "HEAD") {
    // The head of the stream a GET would start, without running the generator.
    handlerSpan?.end();
    return ex.send(200, framing === "sse" ? `${SSE_TYPE}; charset=utf-8` : NDJSON_TYPE, "", ["cache-control", "no-cache"]);
  }
  const run = (a: unknown, c: Context | undefined): Promise<void> => {
    const out = route.invoke(a, c);
    const pump = (iterable: unknown): Promise<void> =>
      pumpStream({ ex, endpoint: route.api.route, iterable, framing, settings: ctx.stream, metrics: ctx.metrics, logger: ctx.logger, handlerSpan });
    return isPromise(out) ? out.then(pump) : pump(out);
  };
  let done: Promise<void>;
  try {
    if (route.api.callsRunners) done = runInCallScope(runnerCallScope(ex, handlerSpan), run, input, context);
    else done = run(input, context);
  } catch (err) {
    handlerSpan?.end(err);
    return ex.fail(err);
  }
  done.catch((err: unknown) => {
    handlerSpan?.end(err);
    ex.fail(err);
  });
}

/**
 * What runner calls made by a handler inherit: the request's abort signal, trace context and deadline. The
 * deadline is read when a call is made, so a stream's moves with it (request timeout, then the idle and
 * maximum limits); a request's stays where it was set.
 */
function runnerCallScope(ex: Exchange, handlerSpan: SpanHandle | undefined): RunnerCallOptions {
  return {
    get signal() {
      return ex.signal();
    },
    traceparent: handlerSpan?.traceparent ?? ex.span?.traceparent,
    get deadline() {
      return ex.deadlineAt === 0 ? undefined : Date.now() + Math.max(0, ex.deadlineAt - performance.now());
    },
  };
}

function reply(ex: Exchange, route: ApiRoute, value: unknown, accept: string | undefined): void {
  if (ex.done) return;
  try {
    const enc = route.encode(value, accept);
    ex.send(200, enc.contentType, enc.body, enc.headers);
  } catch (err) {
    ex.fail(err);
  }
}

function clientError(ctx: ApiRequestContext, ex: Exchange, err: unknown): unknown {
  const mapped = asClientError(err);
  if (mapped !== err) ctx.logger.warn("input could not be decoded", { requestId: ex.requestId, err });
  return mapped;
}

function makeContext(ex: Exchange, headers: Record<string, string>, traceparent: string | undefined): Context {
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

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
