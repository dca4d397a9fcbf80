/**
 * `--workers N`: N API worker processes listening on the same port. uWS listens with SO_REUSEPORT by
 * default on Linux, so the kernel spreads connections over the processes. Worker 0 binds first (it may be
 * given port 0) and the others bind to the port it got. Each worker loads the bundle and its own runner
 * * host (an explicit port is needed for that: port 0 is resolved to a free port first). The parent supervises: restarts a worker that dies, fans out reload and shutdown.
 *
 * Processes rather than worker_threads: a uWS app cannot be torn down inside a terminating thread
 * (Node aborts on the open uWS poll handle), so a thread could never drain and exit cleanly.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BentocConfig } from "../config/config-types.ts";

interface WorkerInit {
  type: "init";
  index: number;
  dir: string;
  config: BentocConfig;
}

type FromWorker =
  | { type: "listening"; port: number; url: string }
  | { type: "failed"; message: string }
  | { type: "reloaded"; ok: boolean; message?: string }
  /** A worker was scraped: it asks the parent for every worker's metrics, aggregated. */
  | { type: "metrics-request"; id: number }
  | { type: "metrics-json"; id: number; metrics: unknown[] };

type ToWorker =
  | WorkerInit
  | { type: "reload" }
  | { type: "shutdown" }
  | { type: "metrics-json"; id: number }
  | { type: "metrics-text"; id: number; text?: string; error?: string };

/** How long the parent waits for one worker's metrics before aggregating without it. */
const METRICS_TIMEOUT_MS = 2000;

export interface WorkerPool {
  readonly port: number;
  readonly url: string;
  readonly size: number;
  reload(): Promise<void>;
  /** Drains every worker (each with `config.server.drainMs`) and resolves when all have exited. */
  shutdown(): Promise<void>;
}

const WORKER_ENV = "BENTOC_API_WORKER";

/**
 * Node flags for a worker: the parent's, plus tsx's loader (this runtime is TypeScript; the `bentoc` bin
 * registers tsx in-process, which a forked child does not inherit). Resolved to an absolute URL so it
 * works from any working directory.
 */
function workerExecArgv(): string[] {
  if (process.execArgv.some((a) => a.includes("tsx"))) return process.execArgv;
  return [...process.execArgv, "--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href];
}

export async function startWorkers(dir: string, config: BentocConfig, count: number): Promise<WorkerPool> {
  const workers: (ChildProcess | undefined)[] = new Array(count);
  let stopping = false;
  let port = config.server.port;
  let url = "";

  const spawn = (index: number, bindPort: number): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, [WORKER_ENV]: "1" },
        execArgv: workerExecArgv(),
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      let started = false;
      child.on("message", (m: FromWorker) => {
        if (m.type === "metrics-request") {
          aggregateMetrics().then(
            (text) => child.connected && child.send({ type: "metrics-text", id: m.id, text } satisfies ToWorker),
            (err: Error) => child.connected && child.send({ type: "metrics-text", id: m.id, error: err.message } satisfies ToWorker),
          );
          return;
        }
        if (m.type === "listening" && !started) {
          started = true;
          port = m.port;
          url = m.url;
          resolve(child);
        } else if (m.type === "failed" && !started) {
          started = true;
          reject(new Error(`worker ${index}: ${m.message}`));
        }
      });
      child.on("exit", (code, signal) => {
        if (!started) {
          started = true;
          reject(new Error(`worker ${index} exited (${signal ?? code}) before listening`));
          return;
        }
        if (stopping || workers[index] !== child) return;
        process.stderr.write(`bentoc: worker ${index} exited (${signal ?? code}); restarting\n`);
        workers[index] = undefined;
        spawn(index, port).then(
          (nw) => (workers[index] = nw),
          (err: Error) => process.stderr.write(`bentoc: restarting worker ${index} failed: ${err.message}\n`),
        );
      });
      workers[index] = child;
      const init: WorkerInit = { type: "init", index, dir, config: { ...config, server: { ...config.server, port: bindPort, workers: 1 } } };
      child.send(init);
    });

  let nextId = 0;
  /** Every live worker's registry as JSON, summed per series by prom-client's AggregatorRegistry. */
  const aggregateMetrics = async (): Promise<string> => {
    const live = workers.filter((w): w is ChildProcess => w !== undefined && w.connected);
    const parts = await Promise.all(
      live.map((w) => {
        const id = ++nextId;
        return ask(w, { type: "metrics-json", id }, (m) => m.type === "metrics-json" && m.id === id, METRICS_TIMEOUT_MS);
      }),
    );
    const { AggregatorRegistry } = (await import("prom-client")).default;
    const present = parts.flatMap((m) => (m?.type === "metrics-json" && m.metrics.length > 0 ? [m.metrics] : []));
    if (present.length === 0) return "";
    return AggregatorRegistry.aggregate(present as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
  };

  // uSockets sets SO_REUSEPORT only for an explicit port: resolve port 0 to a free one first.
  if (port === 0) port = await findFreePort(config.server.host);
  try {
    await spawn(0, port);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawn(i + 1, port)));
  } catch (err) {
    stopping = true;
    for (const w of workers) w?.kill("SIGKILL");
    throw err;
  }

  return {
    get port() {
      return port;
    },
    get url() {
      return url;
    },
    size: count,
    async reload() {
      const live = workers.filter((w): w is ChildProcess => w !== undefined);
      const results = await Promise.all(live.map((w) => ask(w, { type: "reload" }, (m) => m.type === "reloaded")));
      const failed = results.find((r) => r?.type === "reloaded" && !r.ok) as Extract<FromWorker, { type: "reloaded" }> | undefined;
      if (failed) throw new Error(`reload failed: ${failed.message ?? "unknown error"}`);
    },
    async shutdown() {
      stopping = true;
      await Promise.all(
        workers.map(
          (w) =>
            w &&
            w.exitCode === null &&
            new Promise<void>((resolve) => {
              w.once("exit", () => resolve());
              w.send({ type: "shutdown" } satisfies ToWorker);
            }),
        ),
      );
    },
  };
}

/** Sends `msg` to a worker and resolves with its first reply that `matches` (undefined after `timeoutMs`). */
function ask(w: ChildProcess, msg: ToWorker, matches: (m: FromWorker) => boolean, timeoutMs?: number): Promise<FromWorker | undefined> {
  return new Promise((resolve) => {
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(undefined), timeoutMs);
    const onMsg = (m: FromWorker): void => {
      if (matches(m)) done(m);
    };
    const done = (m: FromWorker | undefined): void => {
      if (timer) clearTimeout(timer);
      w.off("message", onMsg);
      resolve(m);
    };
    w.on("message", onMsg);
    w.send(msg);
  });
}

function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const p = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

async function runWorker(init: WorkerInit): Promise<void> {
  const send = (m: FromWorker): void => void process.send?.(m);
  const { serveCompiledDir } = await import("../serve-compiled.ts");
  let served: Awaited<ReturnType<typeof serveCompiledDir>>;
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let nextId = 0;
  const metricsText = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      send({ type: "metrics-request", id });
    });
  process.on("message", (m: ToWorker) => {
    if (m.type !== "metrics-text") return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(`aggregating worker metrics failed: ${m.error}`));
    else p?.resolve(m.text ?? "");
  });
  try {
    served = await serveCompiledDir(init.dir, init.config, { signals: false, print: () => {}, metricsText });
  } catch (err) {
    send({ type: "failed", message: (err as Error).message });
    process.exit(1);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    served.shutdown().finally(() => process.exit(0));
  };
  process.on("message", (m: ToWorker) => {
    if (m.type === "reload") {
      served.reload().then(
        () => send({ type: "reloaded", ok: true }),
        (err: Error) => send({ type: "reloaded", ok: false, message: err.message }),
      );
    } else if (m.type === "shutdown") stop();
    else if (m.type === "metrics-json") {
      served.metricsJson().then(
        (metrics) => send({ type: "metrics-json", id: m.id, metrics }),
        () => send({ type: "metrics-json", id: m.id, metrics: [] }),
      );
    }
  });
  // The parent coordinates shutdown; if it disappears, drain and leave.
  process.on("disconnect", stop);
  send({ type: "listening", port: served.port, url: served.url });
}

if (process.env[WORKER_ENV] === "1" && typeof process.send === "function") {
  // Terminal signals reach the whole process group; the parent decides when workers stop.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => {});
  process.once("message", (m: ToWorker) => {
    if (m.type === "init") void runWorker(m);
  });
}
