/** Runs inside the worker thread: imports the bundle, brings the runner up, serves batches. */

import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { RunnerManifest } from "../../sdk/manifest.ts";
import { createRunnerInstance, type RunnerInstance } from "./runner-instance.ts";
import { encodeResults, toWireError, transferables } from "./wire-format.ts";

export interface WorkerInit {
  bundlePath: string;
  runner: RunnerManifest;
  home?: string | undefined;
  threads?: number | null | undefined;
}

export type ToWorker = { type: "call"; id: number; method: string; items: unknown[] } | { type: "close" };
export type FromWorker =
  | { type: "ready"; modelLoadMs: number }
  | { type: "failed"; error: ReturnType<typeof toWireError> }
  | { type: "result"; id: number; results: unknown[] }
  | { type: "error"; id: number; error: ReturnType<typeof toWireError> }
  | { type: "closed" };

const port = parentPort;
if (!port) throw new Error("worker-entry.ts must run in a worker thread");
const init = workerData as WorkerInit;
let runner: RunnerInstance | undefined;

try {
  const module = (await import(pathToFileURL(init.bundlePath).href)) as Record<string, unknown>;
  runner = await createRunnerInstance(init.runner, module, { home: init.home, threads: init.threads });
  port.postMessage({ type: "ready", modelLoadMs: runner.modelLoadMs } satisfies FromWorker);
} catch (err) {
  port.postMessage({ type: "failed", error: toWireError(err) } satisfies FromWorker);
}

port.on("message", async (msg: ToWorker) => {
  if (msg.type === "close") {
    await runner?.close().catch(() => undefined);
    port.postMessage({ type: "closed" } satisfies FromWorker);
    port.close();
    return;
  }
  try {
    if (!runner) throw new Error(`runner ${init.runner.name} is not loaded`);
    const results = encodeResults(await runner.invoke(msg.method, msg.items));
    // Outputs are transferred (zero copy); the worker never touches them again.
    port.postMessage({ type: "result", id: msg.id, results } satisfies FromWorker, transferables(results));
  } catch (err) {
    port.postMessage({ type: "error", id: msg.id, error: toWireError(err) } satisfies FromWorker);
  }
});
