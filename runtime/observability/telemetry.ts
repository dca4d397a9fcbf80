/**
 * What the servers and the runners report, as small required interfaces, each passed explicitly to what
 * uses it: request metrics and request tracing (the HTTP servers), runner telemetry (runner hosts and
 * dispatchers), the metrics text (`/metrics`). `noopTelemetry` implements all of them and costs nothing;
 * the real implementation (prom-client + OpenTelemetry) is create-telemetry.ts.
 */
export interface SpanHandle {
  /** W3C traceparent of this span, to pass on to runners. */
  readonly traceparent: string | undefined;
  setAttribute(key: string, value: string | number | boolean): void;
  end(error?: unknown): void;
}

/** Request counts, in-flight gauge and durations per endpoint and status. */
export interface RequestMetrics {
  requestStarted(endpoint: string): void;
  requestFinished(endpoint: string, httpStatus: number, seconds: number): void;
  /** One item of a streaming API's response was written. */
  streamItem(endpoint: string): void;
  /** A streamed response ended: how, and how long it ran from the request's arrival. */
  streamFinished(endpoint: string, outcome: StreamOutcome, seconds: number): void;
}

/** How a streamed response ended: all items sent, an error event, the client left, a stream limit. */
export type StreamOutcome = "complete" | "error" | "disconnect" | "timeout";

/** Spans of HTTP requests and of the API handlers inside them. */
export interface RequestTracing {
  /** Spans are recorded (sampled and exported); when false the span methods only pass traceparent on. */
  readonly tracingEnabled: boolean;
  /** A span per HTTP request; `traceparent` is the client's header when present. */
  startRequestSpan(name: string, traceparent: string | undefined): SpanHandle;
  /** A span around the API handler, child of the request span (`parent` is its traceparent). */
  startHandlerSpan(endpoint: string, parent: string | undefined): SpanHandle;
}

export type RejectReason = "queue_full" | "deadline" | "not_ready" | "aborted";

/** What runners and their dispatchers report. */
export interface RunnerTelemetry {
  runnerCall(runner: string, method: string, outcome: "ok" | "error" | "rejected", seconds: number): void;
  batchExecuted(runner: string, method: string, size: number, seconds: number): void;
  queueDepth(runner: string, method: string, depth: number): void;
  queueWait(runner: string, method: string, seconds: number): void;
  rejected(runner: string, method: string, reason: RejectReason): void;
  modelLoaded(runner: string, seconds: number): void;
  /** A span for one runner call (queue wait included), child of `parent`. */
  startRunnerSpan(runner: string, method: string, parent: string | undefined): SpanHandle;
  /** A span for one batch execution, linked to the calls it served. */
  startBatchSpan(runner: string, method: string, links: readonly (string | undefined)[]): SpanHandle;
}

/** The Prometheus text exposition served at `/metrics`. */
export interface MetricsSource {
  readonly contentType: string;
  metricsText(): Promise<string>;
}

/** Everything a process reports, as one object (what `createTelemetry` and `noopTelemetry` give). */
export type Telemetry = RequestMetrics & RequestTracing & RunnerTelemetry;

const noopSpan: SpanHandle = { traceparent: undefined, setAttribute() {}, end() {} };
const passOn = (parent: string | undefined): SpanHandle => (parent === undefined ? noopSpan : { ...noopSpan, traceparent: parent });

export const noopTelemetry: Telemetry = {
  requestStarted() {},
  requestFinished() {},
  streamItem() {},
  streamFinished() {},
  tracingEnabled: false,
  startRequestSpan: (_n, traceparent) => passOn(traceparent),
  startHandlerSpan: (_e, parent) => passOn(parent),
  runnerCall() {},
  batchExecuted() {},
  queueDepth() {},
  queueWait() {},
  rejected() {},
  modelLoaded() {},
  startRunnerSpan: (_r, _m, parent) => passOn(parent),
  startBatchSpan: () => noopSpan,
};

/** `/metrics` of a process without metrics: an empty exposition. */
export const noMetrics: MetricsSource = { contentType: "text/plain; version=0.0.4; charset=utf-8", metricsText: async () => "" };
