/**
 * The effective configuration: defaults ← decorator values (from the manifest) ← bentoc.yaml ← BENTOC_* env
 * ← CLI flags. Keys in bentoc.yaml are snake_case of these (both spellings are accepted).
 */
export interface BatchingConfig {
  enabled: boolean;
  maxBatchSize: number;
  maxLatencyMs: number;
  /** Items waiting per batchable method before new calls get 503 at once. */
  maxQueueSize: number;
}

export interface RunnerConfig {
  placement: "inline" | "worker";
  threads: number | null;
  batching: BatchingConfig;
  /** Per-method overrides of batching, keyed by method name. */
  methods: Record<string, Partial<BatchingConfig>>;
  /** When set, the runner is remote (runner-split): base URL of its Open Inference Protocol V2 server. */
  url: string | null;
}

export interface ServerConfig {
  /** HTTP backend: uWebSockets.js where its native build loads (`auto`), or forced (`uws`, `node`). */
  http: "auto" | "uws" | "node";
  host: string;
  port: number;
  workers: number;
  /** Largest request body in bytes (413 past it). */
  maxBodyBytes: number;
  /** Largest request head (request line and headers) in bytes; 431 past it (node:http backend). */
  maxHeaderBytes: number;
  /** Most pixels (width × height) of an image input, unless the API sets `io.image({ maxPixels })`; 413 past it. */
  maxImagePixels: number;
  timeoutMs: number;
  /**
   * Streaming APIs: the longest a streamed response may run, from the request's arrival (0: no limit, the
   * default; a healthy stream is never cut). Past it the stream ends with a `stream_timeout` error event.
   */
  streamMaxMs: number;
  /**
   * Streaming APIs: the longest the handler may take to produce the next item once the stream has started
   * (0: the request timeout, `timeoutMs`). Time spent waiting for a slow reader does not count.
   */
  streamIdleMs: number;
  /** Streaming APIs: an SSE comment line (`: heartbeat`) after this long without output (0: none). */
  streamHeartbeatMs: number;
  maxConcurrency: number;
  /** Grace period for in-flight requests on SIGTERM/SIGINT. */
  drainMs: number;
  cors: { enabled: boolean; origins: string[] };
  accessLog: boolean;
  /** Enables `GET|POST /_bentoc/batching` (change batching settings at run time; used by `bentoc bench`). Never expose it publicly. */
  admin: boolean;
  /** The admin route's bearer token; null: a random one is made and printed at start. */
  adminToken: string | null;
}

export interface MetricsConfig {
  enabled: boolean;
  /** Histogram buckets (seconds) for request durations. */
  durationBuckets: number[];
}

/** OTLP/HTTP body encoding. */
export type OtlpProtocol = "http/protobuf" | "http/json";

export interface TracingConfig {
  /** 0 turns tracing off (the default). */
  sampleRate: number;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  endpoint: string | null;
  headers: Record<string, string>;
  /** OTLP/HTTP encoding; null: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`, else http/protobuf. */
  protocol: OtlpProtocol | null;
}

export interface LoggingConfig {
  level: "debug" | "info" | "warn" | "error";
}

export interface BentocConfig {
  server: ServerConfig;
  runners: Record<string, RunnerConfig>;
  metrics: MetricsConfig;
  tracing: TracingConfig;
  logging: LoggingConfig;
  /** Model store directory ($BENTOC_HOME). */
  home: string;
}
