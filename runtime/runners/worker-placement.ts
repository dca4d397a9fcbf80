/**
 * The worker placement: the runner lives in a worker_thread that imports the same bundle and loads the
 * model there; the dispatcher stays in the main thread and sends each batch over postMessage. Inputs are
 * structured-cloned (the caller's arrays stay usable and a failed batch can be re-run per call); outputs
 * come back as transferred typed arrays (no copy).
 */
import { Worker } from "node:worker_threads";
import type { RunnerManifest } from "../../sdk/manifest.ts";
import { workerThreadScript } from "../worker-thread-script.ts";
import type { RunnerInstance, RunnerInstanceOptions } from "./runner-instance.ts";
import { decodeResults, fromWireError } from "./wire-format.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-entry.ts";

export async function startWorkerRunner(bundlePath: string, runner: RunnerManifest, options: RunnerInstanceOptions = {}): Promise<RunnerInstance> {
  const init: WorkerInit = { bundlePath, runner, home: options.home, threads: options.threads };
  // worker-entry.js from dist/, or worker-entry.ts through tsx when running from the sources
  const worker = new Worker(...workerThreadScript(new URL("./worker-entry.ts", import.meta.url), { workerData: init, name: `bentoc-runner-${runner.name}` }));
  const pending = new Map<number, { resolve: (r: unknown[]) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | undefined;
  let onClosed: (() => void) | undefined;
  const failAll = (err: Error) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const modelLoadMs = await new Promise<number>((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`runner ${runner.name}: worker failed to start: ${err.message}`, { cause: err }));
    const onExit = (code: number) => reject(new Error(`runner ${runner.name}: worker exited with code ${code} while starting`));
    worker.once("error", onError);
    worker.once("exit", onExit);
    worker.once("message", (msg: FromWorker) => {
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (msg.type === "ready") resolve(msg.modelLoadMs);
      else if (msg.type === "failed") reject(fromWireError(msg.error));
      else reject(new Error(`runner ${runner.name}: unexpected first message ${msg.type} from its worker`));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  worker.on("message", (msg: FromWorker) => {
    if (msg.type === "closed") return onClosed?.();
    if (msg.type !== "result" && msg.type !== "error") return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.type === "result") p.resolve(decodeResults(msg.results));
    else p.reject(fromWireError(msg.error));
  });
  worker.on("error", (err) => failAll(new Error(`runner ${runner.name}: worker crashed: ${err.message}`, { cause: err })));
  worker.on("exit", (code) => failAll(new Error(`runner ${runner.name}: worker exited (code ${code})`)));

  return {
    modelLoadMs,
    invoke(method, items) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<unknown[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ type: "call", id, method, items } satisfies ToWorker);
      });
    },
    async close() {
      if (dead) return;
      const closed = new Promise<void>((r) => (onClosed = r));
      worker.postMessage({ type: "close" } satisfies ToWorker);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
      await worker.terminate();
    },
  };
}
