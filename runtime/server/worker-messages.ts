/** The IPC messages between the worker pool (worker-pool.ts) and an API worker (api-worker.ts). */
import type { BentocConfig } from "../config/config-types.ts";

export interface WorkerInit {
  type: "init";
  index: number;
  dir: string;
  /** The worker's config: one process, the pool's port and backend. */
  config: BentocConfig;
}

export type FromWorker =
  /** The worker listens for messages now (an ES module starts asynchronously: a message sent earlier is lost). */
  | { type: "hello" }
  | { type: "listening"; port: number; url: string }
  | { type: "failed"; message: string; portInUse: boolean }
  | { type: "reloaded"; ok: boolean; message?: string }
  /** A worker was scraped: it asks the parent for every worker's metrics, aggregated. */
  | { type: "metrics-request"; id: number }
  | { type: "metrics-json"; id: number; metrics: unknown[] };

export type ToWorker =
  | WorkerInit
  | { type: "reload" }
  | { type: "shutdown" }
  | { type: "metrics-json"; id: number }
  | { type: "metrics-text"; id: number; text?: string; error?: string };
