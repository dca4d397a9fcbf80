/**
 * The real `Telemetry`: Prometheus metrics (metrics.ts) plus OpenTelemetry spans (tracing.ts). With
 * metrics disabled the metric methods are the no-op ones; with tracing off the span methods are the
 * no-op ones (they still pass a client's `traceparent` through to runners).
 */
import type { MetricsConfig, TracingConfig } from "../config/config-types.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { type MetricsSource, noopTelemetry, type RequestMetrics, type RunnerTelemetry, type Telemetry } from "./telemetry.ts";
import { createTracing, type TracingOptions, type TracingSettings } from "./tracing.ts";

export interface TelemetryService {
  name: string;
  version: string;
  /** Max batch size per runner (or `runner.method`); sets the `bentoc_runner_adaptive_batch_size` buckets. */
  maxBatchSizes?: Record<string, number>;
}

export interface TelemetryOptions {
  /** Where `OTEL_*` variables are read from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replace the OTLP/HTTP export (benchmarks: a processor that drops spans). */
  spanProcessor?: TracingOptions["processor"];
  /** Default process metrics; on unless false. */
  processMetrics?: boolean;
  /** Where telemetry's own problems are logged (a collector refusing spans); warnings to stdout by default. */
  logger?: Logger;
}

export type RuntimeTelemetry = Telemetry &
  MetricsSource & {
    readonly metricsEnabled: boolean;
    readonly tracing: TracingSettings;
    /** The metrics (with their prom-client registry) when enabled. */
    readonly metrics: Metrics | undefined;
    /** Export the spans ended so far. */
    flush(): Promise<void>;
    /** Flush spans and stop the exporter. */
    shutdown(): Promise<void>;
  };

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

export function createTelemetry(
  config: { metrics: MetricsConfig; tracing: TracingConfig },
  service: TelemetryService,
  options: TelemetryOptions = {},
): RuntimeTelemetry {
  const metrics = config.metrics.enabled
    ? createMetrics({
        serviceName: service.name,
        serviceVersion: service.version,
        durationBuckets: config.metrics.durationBuckets,
        ...(service.maxBatchSizes ? { maxBatchSizes: service.maxBatchSizes } : {}),
        ...(options.processMetrics !== undefined ? { processMetrics: options.processMetrics } : {}),
      })
    : undefined;
  const tracing = createTracing({
    config: config.tracing,
    serviceName: service.name,
    serviceVersion: service.version,
    ...(options.env ? { env: options.env } : {}),
    ...(options.spanProcessor ? { processor: options.spanProcessor } : {}),
    logger: options.logger ?? createLogger({ level: "warn" }),
  });

  const m: RequestMetrics & Omit<RunnerTelemetry, "startRunnerSpan" | "startBatchSpan"> = metrics ?? noopTelemetry;

  return {
    requestStarted: m.requestStarted,
    requestFinished: m.requestFinished,
    streamItem: m.streamItem,
    streamFinished: m.streamFinished,
    runnerCall: m.runnerCall,
    batchExecuted: m.batchExecuted,
    queueDepth: m.queueDepth,
    queueWait: m.queueWait,
    rejected: m.rejected,
    modelLoaded: m.modelLoaded,
    startRequestSpan: tracing.startRequestSpan,
    startHandlerSpan: tracing.startHandlerSpan,
    startRunnerSpan: tracing.startRunnerSpan,
    startBatchSpan: tracing.startBatchSpan,
    metricsText: metrics ? metrics.metricsText : async () => "",
    contentType: metrics?.contentType ?? PROMETHEUS_TEXT,
    metricsEnabled: metrics !== undefined,
    tracingEnabled: tracing.enabled,
    tracing: tracing.settings,
    metrics,
    flush: () => tracing.flush(),
    shutdown: () => tracing.shutdown(),
  };
}
