/**
 * The Prometheus metric names the runtime exports (runtime/observability/metrics.ts) and the generated
 * ServiceMonitor alerts and Grafana dashboard query. Named like BentoML's, with the `bentoc_` prefix.
 */
export const METRIC_NAMES = {
  apiDuration: "bentoc_api_server_request_duration_seconds",
  apiTotal: "bentoc_api_server_request_total",
  apiInProgress: "bentoc_api_server_request_in_progress",
  streamDuration: "bentoc_api_server_stream_duration_seconds",
  streamTotal: "bentoc_api_server_stream_total",
  streamItems: "bentoc_api_server_stream_items_total",
  runnerDuration: "bentoc_runner_request_duration_seconds",
  runnerTotal: "bentoc_runner_request_total",
  batchSize: "bentoc_runner_adaptive_batch_size",
  batchDuration: "bentoc_runner_batch_execution_duration_seconds",
  queueDepth: "bentoc_runner_queue_depth",
  queueWait: "bentoc_runner_queue_wait_seconds",
  rejected: "bentoc_runner_rejected_total",
  modelLoad: "bentoc_runner_model_load_seconds",
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
