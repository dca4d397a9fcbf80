/**
 * The contract between the API server and the runners. The server constructs the service instance and
 * asks the host for one live handle per `depends(...)` field; the handle has the runner's batchable
 * methods, each taking and returning arrays (same length out as in), batched behind the scenes.
 */
import type { RunnerManifest } from "../../sdk/manifest.ts";
import type { RunnerCallOptions } from "../../sdk/types.ts";
import type { BatchSettings } from "../batching/adaptive-dispatcher.ts";

/** The options a service passes on a runner call (`RunnerHandle` in the sdk): one definition, the sdk's. */
export type { RunnerCallOptions };

export interface RunnerHandle {
  readonly name: string;
  /** Calls the batchable method `method` with `items`; resolves to one result per item. */
  call(method: string, items: unknown[], options?: RunnerCallOptions): Promise<unknown[]>;
}

/** Reading and changing batching settings at run time (the `--admin` route `/_bentoc/batching`, `bentoc bench`). */
export interface BatchingAdmin {
  /** Batching settings in force, per batchable method of every local runner. */
  batching(): BatchingState[];
  /** Applies `change`; throws for an unknown runner. Returns the settings now in force. */
  reconfigureBatching(change: BatchingChange): BatchingState[];
}

export interface RunnerHost extends BatchingAdmin {
  /** Loads models, runs each runner's `setup()` and warms up. Rejects with a clear message on failure. */
  start(): Promise<void>;
  /** True once every runner is loaded and warmed (drives /readyz). */
  readonly ready: boolean;
  /** Runners that are not ready, with the reason (for the /readyz body). */
  status(): Array<{ name: string; ready: boolean; detail?: string }>;
  handle(runnerName: string): RunnerHandle;
  /** Makes an object with the runner's method names that the service code calls like the runner class. */
  proxy(runnerName: string): Record<string, (items: unknown[], options?: RunnerCallOptions) => Promise<unknown[]>>;
  stop(): Promise<void>;
  readonly runners: readonly RunnerManifest[];
}

/** A change of batching settings at run time (the `--admin` route `POST /_bentoc/batching`, `bentoc bench`). */
export interface BatchingChange {
  /** Runner to change; every local runner when absent. */
  runner?: string | undefined;
  enabled?: boolean | undefined;
  maxBatchSize?: number | undefined;
  maxLatencyMs?: number | undefined;
  policy?: BatchSettings["policy"] | undefined;
  /** Back to the configured settings (decorator ← bentoc.yaml ← env) and a fresh latency model, before the fields above apply. */
  reset?: boolean | undefined;
}

export interface BatchingState extends BatchSettings {
  runner: string;
  method: string;
}
