/** Built-in defaults of the effective configuration (the bottom layer; see docs/configuration.md). */
import { homedir } from "node:os";
import { join } from "node:path";
import { DEFAULT_API_PORT, DEFAULT_DRAIN_MS } from "../../contract/shared-defaults.ts";
import { DEFAULTS } from "../../sdk/manifest.ts";
import type { BatchingConfig, BentocConfig } from "./config-types.ts";

/**
 * Items queued per batchable method before new calls get 503 at once. A fixed bound (not a multiple of
 * maxConcurrency): it caps memory per method whatever the server limit, and at 1000 queued items a call
 * would wait ~30 full batches, past any sensible timeout.
 */
export const DEFAULT_MAX_QUEUE_SIZE = 1000;

export const DEFAULT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function defaultBatching(): BatchingConfig {
  return { enabled: true, maxBatchSize: DEFAULTS.maxBatchSize, maxLatencyMs: DEFAULTS.maxLatencyMs, maxQueueSize: DEFAULT_MAX_QUEUE_SIZE };
}

export function defaultConfig(): BentocConfig {
  return {
    server: {
      http: "auto",
      host: "0.0.0.0",
      port: DEFAULT_API_PORT,
      workers: 1,
      maxBodyBytes: 10 * 1024 * 1024,
      maxHeaderBytes: 16 * 1024,
      maxImagePixels: 50_000_000,
      timeoutMs: DEFAULTS.timeoutMs,
      streamMaxMs: 0,
      streamIdleMs: 0,
      streamHeartbeatMs: 15_000,
      maxConcurrency: DEFAULTS.maxConcurrency,
      drainMs: DEFAULT_DRAIN_MS,
      cors: { enabled: false, origins: [] },
      accessLog: true,
      admin: false,
      adminToken: null,
    },
    runners: {},
    metrics: { enabled: true, durationBuckets: [...DEFAULT_DURATION_BUCKETS] },
    tracing: { sampleRate: 0, endpoint: null, headers: {}, protocol: null },
    logging: { level: "info" },
    home: join(homedir(), ".bentoc"),
  };
}
