/**
 * Prometheus metrics of one API server or runner process, named like BentoML's with the `bentoc_` prefix.
 * Each call of `createMetrics` owns a fresh prom-client `Registry` (never the global one), so several
 * services or tests in one process never collide. Label children are cached per label tuple: the hot
 * path is a Map lookup plus an `observe`/`inc`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** BentoML's default request-duration buckets (seconds). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60,
];

/** Largest batch size assumed when no runner declares its own. */
export const DEFAULT_MAX_BATCH_SIZE = 128;

export type RunnerOutcome = "ok" | "error" | "rejected";
export type RejectReason = "queue_full" | "deadline" | "not_ready" | "aborted";

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
  const service = { service_name: options.serviceName, service_version: options.serviceVersion };
  const registers = [registry];

  const requestDuration = new Histogram({
    name: "bentoc_api_server_request_duration_seconds",
    help: "API server request duration in seconds, by endpoint and HTTP status",
    labelNames: API_LABELS,
    buckets: durationBuckets,
    registers,
  });
  const requestTotal = new Counter({
    name: "bentoc_api_server_request_total",
    help: "API server requests, by endpoint and HTTP status",
    labelNames: API_LABELS,
    registers,
  });
  const inProgress = new Gauge({
    name: "bentoc_api_server_request_in_progress",
    help: "API server requests being handled now",
    labelNames: API_PROGRESS_LABELS,
    registers,
  });
  const runnerDuration = new Histogram({
    name: "bentoc_runner_request_duration_seconds",
    help: "Runner call duration in seconds (queue wait included), by outcome",
    labelNames: RUNNER_OUTCOME_LABELS,
    buckets: durationBuckets,
    registers,
  });
  const runnerTotal = new Counter({
    name: "bentoc_runner_request_total",
    help: "Runner calls, by outcome",
    labelNames: RUNNER_OUTCOME_LABELS,
    registers,
  });
  const batchSize = new Histogram({
    name: "bentoc_runner_adaptive_batch_size",
    help: "Items per executed batch",
    labelNames: RUNNER_LABELS,
    buckets: sizeBuckets,
    registers,
  });
  const batchDuration = new Histogram({
    name: "bentoc_runner_batch_execution_duration_seconds",
    help: "Execution time of one batch in seconds",
    labelNames: RUNNER_LABELS,
    buckets: durationBuckets,
    registers,
  });
  const queueDepthGauge = new Gauge({
    name: "bentoc_runner_queue_depth",
    help: "Items waiting in the batching queue",
    labelNames: RUNNER_LABELS,
    registers,
  });
  const queueWaitHist = new Histogram({
    name: "bentoc_runner_queue_wait_seconds",
    help: "Time an item waited in the batching queue before its batch started, in seconds",
    labelNames: RUNNER_LABELS,
    buckets: durationBuckets,
    registers,
  });
  const rejectedTotal = new Counter({
    name: "bentoc_runner_rejected_total",
    help: "Runner calls rejected without execution, by reason",
    labelNames: [...RUNNER_LABELS, "reason"] as const,
    registers,
  });
  const modelLoad = new Gauge({
    name: "bentoc_runner_model_load_seconds",
    help: "Time the runner took to load its model, in seconds",
    labelNames: ["runner_name", "service_name", "service_version"] as const,
    registers,
  });

  const apiChild = cached((_k, endpoint, code) => {
    const labels = { endpoint: endpoint!, http_response_code: code!, ...service };
    return { duration: requestDuration.labels(labels), total: requestTotal.labels(labels) };
  });
  const progressChild = cached((_k, endpoint) => inProgress.labels({ endpoint: endpoint!, ...service }));
  const callChild = cached((_k, runner, method, outcome) => {
    const labels = { runner_name: runner!, method: method!, outcome: outcome!, ...service };
    return { duration: runnerDuration.labels(labels), total: runnerTotal.labels(labels) };
  });
  const runnerChild = cached((_k, runner, method) => {
    const labels = { runner_name: runner!, method: method!, ...service };
    return {
      size: batchSize.labels(labels),
      batch: batchDuration.labels(labels),
      depth: queueDepthGauge.labels(labels),
      wait: queueWaitHist.labels(labels),
    };
  });
  const rejectChild = cached((_k, runner, method, reason) =>
    rejectedTotal.labels({ runner_name: runner!, method: method!, reason: reason!, ...service }),
  );

  return {
    registry,
    contentType: registry.contentType,
    batchSizeBuckets: sizeBuckets,
    requestStarted(endpoint) {
      progressChild(endpoint).inc();
    },
    requestFinished(endpoint, httpStatus, seconds) {
      progressChild(endpoint).dec();
      const c = apiChild(endpoint, String(httpStatus));
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
      modelLoad.labels({ runner_name: runner, ...service }).set(seconds);
    },
    metricsText: () => registry.metrics(),
  };
}
