/**
 * `--workers N`: N uWS apps in worker threads listening on the same port. uWS listens with SO_REUSEPORT
 * by default on Linux, so the kernel spreads connections over the threads. Worker 0 binds first (it may
 * be given port 0) and the others bind to the port it got. Each worker loads the bundle and its own runner
 * host. The main thread only supervises: it restarts a worker that dies, fans out reload and drain.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { BentocConfig } from "../config/config-types.ts";

interface WorkerInit {
  bentocWorker: true;
  index: number;
  dir: string;
  config: BentocConfig;
}

type FromWorker =
  | { type: "listening"; port: number; url: string }
  | { type: "failed"; message: string }
  | { type: "reloaded"; ok: boolean; message?: string }
  | { type: "stopped" };

type ToWorker = { type: "reload" } | { type: "shutdown" };

export interface WorkerPool {
  readonly port: number;
  readonly url: string;
  readonly size: number;
  reload(): Promise<void>;
  /** Drains every worker (each with `config.server.drainMs`), then resolves when all have exited. */
  shutdown(): Promise<void>;
}

function workerExecArgv(): string[] {
  const argv = [...process.execArgv];
  const self = new URL(import.meta.url).pathname;
  // This file is TypeScript when run from source: the thread needs the tsx loader too.
  if (self.endsWith(".ts") && !argv.some((a) => a.includes("tsx"))) argv.push("--import", "tsx");
  return argv;
}

export async function startWorkers(dir: string, config: BentocConfig, count: number): Promise<WorkerPool> {
  const workers: (Worker | undefined)[] = new Array(count);
  let stopping = false;
  let port = config.server.port;
  let url = "";

  const spawn = (index: number, bindPort: number): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const init: WorkerInit = { bentocWorker: true, index, dir, config: { ...config, server: { ...config.server, port: bindPort, workers: 1 } } };
      const w = new Worker(new URL(import.meta.url), { workerData: init, execArgv: workerExecArgv() });
      let started = false;
      w.on("message", (m: FromWorker) => {
        if (m.type === "listening" && !started) {
          started = true;
          port = m.port;
          url = m.url;
          resolve(w);
        } else if (m.type === "failed" && !started) {
          started = true;
          reject(new Error(`worker ${index}: ${m.message}`));
        }
      });
      w.on("error", (err) => {
        if (!started) {
          started = true;
          reject(err);
        } else process.stderr.write(`bentoc: worker ${index} crashed: ${err.stack ?? err.message}\n`);
      });
      w.on("exit", (code) => {
        if (!started) {
          started = true;
          reject(new Error(`worker ${index} exited with code ${code} before listening`));
          return;
        }
        if (stopping || workers[index] !== w) return;
        process.stderr.write(`bentoc: worker ${index} exited (code ${code}); restarting\n`);
        workers[index] = undefined;
        spawn(index, port).then(
          (nw) => (workers[index] = nw),
          (err: Error) => process.stderr.write(`bentoc: restarting worker ${index} failed: ${err.message}\n`),
        );
      });
      workers[index] = w;
    });

  try {
    await spawn(0, config.server.port);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawn(i + 1, port)));
  } catch (err) {
    stopping = true;
    await Promise.all(workers.map((w) => w?.terminate()));
    throw err;
  }

  const ask = <T extends FromWorker["type"]>(w: Worker, msg: ToWorker, reply: T): Promise<Extract<FromWorker, { type: T }>> =>
    new Promise((resolve) => {
      const onMsg = (m: FromWorker): void => {
        if (m.type === reply) {
          w.off("message", onMsg);
          resolve(m as Extract<FromWorker, { type: T }>);
        }
      };
      w.on("message", onMsg);
      w.postMessage(msg);
    });

  return {
    get port() {
      return port;
    },
    get url() {
      return url;
    },
    size: count,
    async reload() {
      const live = workers.filter((w): w is Worker => w !== undefined);
      const results = await Promise.all(live.map((w) => ask(w, { type: "reload" }, "reloaded")));
      const failed = results.find((r) => !r.ok);
      if (failed) throw new Error(`reload failed: ${failed.message ?? "unknown error"}`);
    },
    async shutdown() {
      stopping = true;
      await Promise.all(
        workers.map(
          (w) =>
            w &&
            new Promise<void>((resolve) => {
              w.once("exit", () => resolve());
              w.postMessage({ type: "shutdown" } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}

async function runWorker(init: WorkerInit, port: NonNullable<typeof parentPort>): Promise<void> {
  const { serveCompiledDir } = await import("../serve-compiled.ts");
  let served: Awaited<ReturnType<typeof serveCompiledDir>>;
  try {
    served = await serveCompiledDir(init.dir, init.config, { signals: false, print: () => {} });
  } catch (err) {
    port.postMessage({ type: "failed", message: (err as Error).message } satisfies FromWorker);
    return;
  }
  port.on("message", (m: ToWorker) => {
    if (m.type === "reload") {
      served.reload().then(
        () => port.postMessage({ type: "reloaded", ok: true } satisfies FromWorker),
        (err: Error) => port.postMessage({ type: "reloaded", ok: false, message: err.message } satisfies FromWorker),
      );
    } else if (m.type === "shutdown") {
      served.shutdown().finally(() => {
        port.postMessage({ type: "stopped" } satisfies FromWorker);
        process.exit(0);
      });
    }
  });
  port.postMessage({ type: "listening", port: served.port, url: served.url } satisfies FromWorker);
}

if (!isMainThread && parentPort && (workerData as Partial<WorkerInit> | null)?.bentocWorker) {
  void runWorker(workerData as WorkerInit, parentPort);
}
