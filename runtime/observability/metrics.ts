/**
 * Prometheus metrics of one API server or runner process, named like BentoML's with the `bentoc_` prefix.
 * Each call of `createMetrics` owns a fresh prom-client `Registry` (never the global one), so several
 * services or tests in one process never collide. Label children are cached per label tuple: the hot
 * path is a Map lookup plus an `observe`/`inc`.
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import { METRIC_NAMES } from "../../contract/metric-names.ts";
import { type CounterChild, FastCounter, FastGauge, FastHistogram, type GaugeChild, type HistogramChild } from "./fast-metrics.ts";
import type { RejectReason, StreamOutcome } from "./telemetry.ts";

/** BentoML's default request-duration buckets (seconds). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

/** Largest batch size assumed when no runner declares its own. */
export const DEFAULT_MAX_BATCH_SIZE = 128;

export type RunnerOutcome = "ok" | "error" | "rejected";
export type { RejectReason };

export interface MetricsOptions {
  serviceName: string;
  serviceVersion: string;
  /** Histogram buckets (seconds) for every duration metric; `DEFAULT_DURATION_BUCKETS` when absent/empty. */
  durationBuckets?: readonly number[];
  /** Max batch size per runner (or `runner.method`); the batch-size buckets cover the largest. */
  maxBatchSizes?: Readonly<Record<string, number>>;
  /** Default process metrics (CPU, memory, event loop, GC). On unless false. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Buckets actually used for `bentoc_runner_adaptive_batch_size`. */
  readonly batchSizeBuckets: readonly number[];
  requestStarted(endpoint: string): void;
  requestFinished(endpoint: string, httpStatus: number, seconds: number): void;
  streamItem(endpoint: string): void;
  streamFinished(endpoint: string, outcome: StreamOutcome, seconds: number): void;
  runnerCall(runner: string, method: string, outcome: RunnerOutcome, seconds: number): void;
  batchExecuted(runner: string, method: string, size: number, seconds: number): void;
  queueDepth(runner: string, method: string, depth: number): void;
  queueWait(runner: string, method: string, seconds: number): void;
  rejected(runner: string, method: string, reason: RejectReason): void;
  modelLoaded(runner: string, seconds: number): void;
  metricsText(): Promise<string>;
}

/** 1, 2, 4, … up to `max`, with `max` itself as the last bucket when it is not a power of two. */
export function batchSizeBuckets(max: number): number[] {
  const top = Math.max(1, Math.floor(max));
  const buckets: number[] = [];
  for (let b = 1; b < top; b *= 2) buckets.push(b);
  buckets.push(top);
  return buckets;
}

/** The union of `batchSizeBuckets(max)` over every runner's max (sorted, unique). */
export function unionBatchSizeBuckets(maxBatchSizes: Readonly<Record<string, number>> | undefined): number[] {
  const maxes = Object.values(maxBatchSizes ?? {}).filter((m) => Number.isFinite(m) && m >= 1);
  if (maxes.length === 0) maxes.push(DEFAULT_MAX_BATCH_SIZE);
  const set = new Set<number>();
  for (const m of maxes) for (const b of batchSizeBuckets(m)) set.add(b);
  return [...set].sort((a, b) => a - b);
}

function validBuckets(buckets: readonly number[] | undefined): number[] {
  if (!buckets || buckets.length === 0) return [...DEFAULT_DURATION_BUCKETS];
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  for (const b of sorted) {
    if (!Number.isFinite(b) || b <= 0) throw new Error(`metrics.durationBuckets: ${b} is not a positive finite number`);
  }
  return sorted;
}

const API_LABELS = ["endpoint", "service_name", "service_version", "http_response_code"] as const;
const API_PROGRESS_LABELS = ["endpoint", "service_name", "service_version"] as const;
const STREAM_LABELS = ["endpoint", "outcome", "service_name", "service_version"] as const;
const RUNNER_LABELS = ["runner_name", "method", "service_name", "service_version"] as const;
const RUNNER_OUTCOME_LABELS = ["runner_name", "method", "outcome", "service_name", "service_version"] as const;

/** A tiny per-key cache of prom-client label children. */
function cached<T>(make: (key: string, ...parts: string[]) => T): (...parts: string[]) => T {
  const map = new Map<string, T>();
  return (...parts: string[]) => {
    const key = parts.join("\u0000");
    let child = map.get(key);
    if (child === undefined) {
      child = make(key, ...parts);
      map.set(key, child);
    }
    return child;
  };
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const durationBuckets = validBuckets(options.durationBuckets);
  const sizeBuckets = unionBatchSizeBuckets(options.maxBatchSizes);
  const sn = options.serviceName;
  const sv = options.serviceVersion;

  const requestDuration = new FastHistogram(
    METRIC_NAMES.apiDuration,
    "API server request duration in seconds, by endpoint and HTTP status",
    API_LABELS,
    durationBuckets,
    registry,
  );
  const requestTotal = new FastCounter(METRIC_NAMES.apiTotal, "API server requests, by endpoint and HTTP status", API_LABELS, registry);
  const inProgress = new FastGauge(METRIC_NAMES.apiInProgress, "API server requests being handled now", API_PROGRESS_LABELS, registry);
  const streamDuration = new FastHistogram(
    METRIC_NAMES.streamDuration,
    "Streamed responses: time from the request's arrival to the stream's end, in seconds, by how it ended",
    STREAM_LABELS,
    durationBuckets,
    registry,
  );
  const streamTotal = new FastCounter(
    METRIC_NAMES.streamTotal,
    "Streamed responses that ended, by outcome (complete, error, disconnect: the client left, timeout)",
    STREAM_LABELS,
    registry,
  );
  const streamItems = new FastCounter(METRIC_NAMES.streamItems, "Items written to streamed responses", API_PROGRESS_LABELS, registry);
  const runnerDuration = new FastHistogram(
    METRIC_NAMES.runnerDuration,
    "Runner call duration in seconds (queue wait included), by outcome",
    RUNNER_OUTCOME_LABELS,
    durationBuckets,
    registry,
  );
  const runnerTotal = new FastCounter(METRIC_NAMES.runnerTotal, "Runner calls, by outcome", RUNNER_OUTCOME_LABELS, registry);
  const batchSize = new FastHistogram(METRIC_NAMES.batchSize, "Items per executed batch", RUNNER_LABELS, sizeBuckets, registry);
  const batchDuration = new FastHistogram(METRIC_NAMES.batchDuration, "Execution time of one batch in seconds", RUNNER_LABELS, durationBuckets, registry);
  const queueDepthGauge = new FastGauge(METRIC_NAMES.queueDepth, "Items waiting in the batching queue", RUNNER_LABELS, registry);
  const queueWaitHist = new FastHistogram(
    METRIC_NAMES.queueWait,
    "Time an item waited in the batching queue before its batch started, in seconds",
    RUNNER_LABELS,
    durationBuckets,
    registry,
  );
  const rejectedTotal = new FastCounter(METRIC_NAMES.rejected, "Runner calls rejected without execution, by reason", [...RUNNER_LABELS, "reason"], registry);
  const modelLoad = new FastGauge(
    METRIC_NAMES.modelLoad,
    "Time the runner took to load its model, in seconds",
    ["runner_name", "service_name", "service_version"],
    registry,
  );

  // The per-request paths: plain maps by endpoint (and status number), no key strings built per request.
  type ApiChild = { duration: HistogramChild; total: CounterChild };
  const apiChildren = new Map<string, Map<number, ApiChild>>();
  const apiChild = (endpoint: string, code: number): ApiChild => {
    let byCode = apiChildren.get(endpoint);
    if (byCode === undefined) {
      byCode = new Map();
      apiChildren.set(endpoint, byCode);
    }
    let child = byCode.get(code);
    if (child === undefined) {
      const text = String(code);
      child = { duration: requestDuration.child(endpoint, sn, sv, text), total: requestTotal.child(endpoint, sn, sv, text) };
      byCode.set(code, child);
    }
    return child;
  };
  const progressChildren = new Map<string, GaugeChild>();
  const progressChild = (endpoint: string): GaugeChild => {
    let child = progressChildren.get(endpoint);
    if (child === undefined) {
      child = inProgress.child(endpoint, sn, sv);
      progressChildren.set(endpoint, child);
    }
    return child;
  };
  const itemChild = cached((_k, endpoint) => streamItems.child(endpoint!, sn, sv));
  const streamChild = cached((_k, endpoint, outcome) => ({
    duration: streamDuration.child(endpoint!, outcome!, sn, sv),
    total: streamTotal.child(endpoint!, outcome!, sn, sv),
  }));
  const callChild = cached((_k, runner, method, outcome) => ({
    duration: runnerDuration.child(runner!, method!, outcome!, sn, sv),
    total: runnerTotal.child(runner!, method!, outcome!, sn, sv),
  }));
  const runnerChild = cached((_k, runner, method) => ({
    size: batchSize.child(runner!, method!, sn, sv),
    batch: batchDuration.child(runner!, method!, sn, sv),
    depth: queueDepthGauge.child(runner!, method!, sn, sv),
    wait: queueWaitHist.child(runner!, method!, sn, sv),
  }));
  const rejectChild = cached((_k, runner, method, reason) => rejectedTotal.child(runner!, method!, sn, sv, reason!));

  return {
    registry,
    contentType: registry.contentType,
    batchSizeBuckets: sizeBuckets,
    requestStarted(endpoint) {
      progressChild(endpoint).inc();
    },
    requestFinished(endpoint, httpStatus, seconds) {
      progressChild(endpoint).dec();
      const c = apiChild(endpoint, httpStatus);
      c.duration.observe(seconds);
      c.total.inc();
    },
    streamItem(endpoint) {
      itemChild(endpoint).inc();
    },
    streamFinished(endpoint, outcome, seconds) {
      const c = streamChild(endpoint, outcome);
      c.duration.observe(seconds);
      c.total.inc();
    },
    runnerCall(runner, method, outcome, seconds) {
      const c = callChild(runner, method, outcome);
      c.duration.observe(seconds);
      c.total.inc();
    },
    batchExecuted(runner, method, size, seconds) {
      const c = runnerChild(runner, method);
      c.size.observe(size);
      c.batch.observe(seconds);
    },
    queueDepth(runner, method, depth) {
      runnerChild(runner, method).depth.set(depth);
    },
    queueWait(runner, method, seconds) {
      runnerChild(runner, method).wait.observe(seconds);
    },
    rejected(runner, method, reason) {
      rejectChild(runner, method, reason).inc();
    },
    modelLoaded(runner, seconds) {
      modelLoad.child(runner, sn, sv).set(seconds);
    },
    metricsText: () => registry.metrics(),
  };
}
