/**
 * What the server and the runners report. One interface, so the hot paths call plain methods and the
 * observability module decides what becomes a Prometheus metric, a span or a log line. `noopTelemetry`
 * costs nothing; the real implementation lives beside this file (prom-client + OpenTelemetry).
 */
export interface SpanHandle {
  /** W3C traceparent of this span, to pass on to runners. */
  readonly traceparent: string | undefined;
  setAttribute(key: string, value: string | number | boolean): void;
  end(error?: unknown): void;
}

export interface Telemetry {
  // API server
  requestStarted(endpoint: string): void;
  requestFinished(endpoint: string, httpStatus: number, seconds: number): void;
  /** A span per HTTP request; `traceparent` is the client's header when present. */
  startRequestSpan(name: string, traceparent: string | undefined): SpanHandle;
  /**
   * A span around the API handler, child of the request span (`parent` is its `traceparent`). Optional
   * so that other implementations stay valid; `createTelemetry` and `noopTelemetry` both have it.
   */
  startHandlerSpan?(endpoint: string, parent: string | undefined): SpanHandle;
  // runners
  runnerCall(runner: string, method: string, outcome: "ok" | "error" | "rejected", seconds: number): void;
  batchExecuted(runner: string, method: string, size: number, seconds: number): void;
  queueDepth(runner: string, method: string, depth: number): void;
  queueWait(runner: string, method: string, seconds: number): void;
  rejected(runner: string, method: string, reason: "queue_full" | "deadline" | "not_ready" | "aborted"): void;
  modelLoaded(runner: string, seconds: number): void;
  /** A span for one runner call (queue wait included), child of `parent`. */
  startRunnerSpan(runner: string, method: string, parent: string | undefined): SpanHandle;
  /** A span for one batch execution, linked to the calls it served. */
  startBatchSpan(runner: string, method: string, links: readonly (string | undefined)[]): SpanHandle;
}

const noopSpan: SpanHandle = { traceparent: undefined, setAttribute() {}, end() {} };

export const noopTelemetry: Telemetry = {
  requestStarted() {},
  requestFinished() {},
  startRequestSpan: (_n, traceparent) => (traceparent === undefined ? noopSpan : { ...noopSpan, traceparent }),
  startHandlerSpan: (_e, parent) => (parent === undefined ? noopSpan : { ...noopSpan, traceparent: parent }),
  runnerCall() {},
  batchExecuted() {},
  queueDepth() {},
  queueWait() {},
  rejected() {},
  modelLoaded() {},
  startRunnerSpan: (_r, _m, parent) => (parent === undefined ? noopSpan : { ...noopSpan, traceparent: parent }),
  startBatchSpan: () => noopSpan,
};
