/**
 * `--workers N`: N API worker processes (node:cluster) serving one port; the parent supervises them.
 *
 * - The port: with the node:http backend, the cluster primary (this process) binds it — exclusively, so a
 *   port another process holds fails the start — and the workers share its socket. With uWS, each worker
 *   binds it with SO_REUSEPORT (the kernel spreads connections); the parent first checks that no other
 *   process holds it. Port 0 becomes one free port for every worker.
 * - A worker that dies is restarted after a growing delay (0.1 s … 5 s); one that dies 5 times within a
 *   minute is crash-looping and is not restarted again. When no worker is left, `onGiveUp` is called.
 * - Reload and shutdown fan out over IPC; `/metrics` of any worker answers every worker's sum.
 *
 * The worker side is api-worker.ts (a separate entry, so that importing this module never forks).
 */
import cluster, { type Worker } from "node:cluster";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BentocConfig } from "../config/config-types.ts";
import { chooseBackend } from "../http/select-backend.ts";
import { PortInUseError } from "../http/transport.ts";
import type { Logger } from "../logging/logger.ts";
import { displayUrl } from "./api-server.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-messages.ts";

export interface WorkerPool {
  readonly port: number;
  readonly url: string;
  readonly backend: "uws" | "node";
  readonly size: number;
  reload(): Promise<void>;
  /** Drains every worker (each with `config.server.drainMs`) and resolves when all have exited. */
  shutdown(): Promise<void>;
}

/** How long the parent waits for one worker's metrics before aggregating without it. */
const METRICS_TIMEOUT_MS = 2000;
const RESTART_DELAYS_MS = [100, 250, 500, 1000, 2000, 5000];
const CRASH_WINDOW_MS = 60_000;
const MAX_CRASHES_IN_WINDOW = 5;

/** The worker entry beside this module: api-worker.js when built, api-worker.ts (through tsx) in development. */
function workerEntry(): { exec: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const exec = fileURLToPath(new URL(fromSource ? "./api-worker.ts" : "./api-worker.js", import.meta.url));
  if (!fromSource || process.execArgv.some((a) => a.includes("tsx"))) return { exec, execArgv: process.execArgv };
  return { exec, execArgv: [...process.execArgv, "--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href] };
}

/** Checks that nobody holds `host:port` (and turns port 0 into a free port). */
function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", (err: NodeJS.ErrnoException) => reject(err.code === "EADDRINUSE" ? new PortInUseError(host, port) : err));
    srv.listen({ host, port, exclusive: true }, () => {
      const addr = srv.address();
      const bound = typeof addr === "object" && addr ? addr.port : port;
      srv.close(() => resolve(bound));
    });
  });
}

export async function startWorkerPool(dir: string, config: BentocConfig, logger: Logger, onGiveUp: (why: string) => void = () => {}): Promise<WorkerPool> {
  const count = config.server.workers;
  const host = config.server.host;
  const choice = chooseBackend(config.server.http);
  const backend = choice.name;
  logger.info("http backend", { backend, reason: choice.reason, workers: count });
  let port = backend === "uws" ? await claimPort(host, config.server.port) : config.server.port;
  const workerPort = port;
  const workers: (Worker | undefined)[] = new Array(count);
  const crashes: number[][] = Array.from({ length: count }, () => []);
  let stopping = false;

  const entry = workerEntry();
  cluster.setupPrimary({ exec: entry.exec, execArgv: entry.execArgv });

  // node:http workers ask the cluster primary for the configured port (port 0: one shared random port,
  // kept by the primary under that key); uWS workers bind the port claimed above themselves.
  const initFor = (index: number): WorkerInit => ({
    type: "init",
    index,
    dir,
    config: { ...config, server: { ...config.server, port: workerPort, workers: 1, http: backend } },
  });

  const spawn = (index: number): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      let started = false;
      worker.on("message", (m: FromWorker) => {
        if (m.type === "hello") worker.send(initFor(index));
        else if (m.type === "metrics-request") {
          aggregateMetrics().then(
            (text) => worker.isConnected() && worker.send({ type: "metrics-text", id: m.id, text } satisfies ToWorker),
            (err: Error) => worker.isConnected() && worker.send({ type: "metrics-text", id: m.id, error: err.message } satisfies ToWorker),
          );
        } else if (m.type === "listening" && !started) {
          started = true;
          port = m.port;
          resolve(worker);
        } else if (m.type === "failed" && !started) {
          started = true;
          reject(m.portInUse ? new PortInUseError(host, port) : new Error(`worker ${index}: ${m.message}`));
        }
      });
      worker.on("exit", (code, signal) => {
        if (!started) {
          started = true;
          reject(new Error(`worker ${index} exited (${signal ?? code}) before listening`));
          return;
        }
        if (stopping || workers[index] !== worker) return;
        workers[index] = undefined;
        restart(index, `exited (${signal ?? code})`);
      });
      workers[index] = worker;
    });

  const restart = (index: number, why: string): void => {
    const now = Date.now();
    const recent = (crashes[index] as number[]).filter((t) => now - t < CRASH_WINDOW_MS);
    recent.push(now);
    crashes[index] = recent;
    if (recent.length > MAX_CRASHES_IN_WINDOW) {
      logger.error("worker is crash-looping; not restarting it", { worker: index, exits: recent.length, windowS: CRASH_WINDOW_MS / 1000 });
      if (workers.every((w) => w === undefined)) onGiveUp(`every API worker crash-looped (last: worker ${index} ${why})`);
      return;
    }
    const delay = RESTART_DELAYS_MS[Math.min(recent.length - 1, RESTART_DELAYS_MS.length - 1)] as number;
    logger.warn("worker died; restarting", { worker: index, why, inMs: delay });
    setTimeout(() => {
      if (stopping) return;
      spawn(index).then(
        (w) => (workers[index] = w),
        (err: Error) => {
          logger.error("restarting a worker failed", { worker: index, err: err.message });
          restart(index, err.message);
        },
      );
    }, delay).unref();
  };

  let nextId = 0;
  /** Every live worker's registry as JSON, summed per series by prom-client's AggregatorRegistry. */
  const aggregateMetrics = async (): Promise<string> => {
    const live = workers.filter((w): w is Worker => w?.isConnected() === true);
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

  try {
    await spawn(0);
    await Promise.all(Array.from({ length: count - 1 }, (_, i) => spawn(i + 1)));
  } catch (err) {
    stopping = true;
    for (const w of workers) w?.process.kill("SIGKILL");
    throw err;
  }

  return {
    get port() {
      return port;
    },
    get url() {
      return displayUrl(host, port);
    },
    backend,
    size: count,
    async reload() {
      const live = workers.filter((w): w is Worker => w !== undefined);
      const results = await Promise.all(live.map((w) => ask(w, { type: "reload" }, (m) => m.type === "reloaded")));
      const failed = results.find((r) => r?.type === "reloaded" && !r.ok);
      if (failed?.type === "reloaded") throw new Error(`reload failed: ${failed.message ?? "unknown error"}`);
    },
    async shutdown() {
      stopping = true;
      await Promise.all(
        workers.map(
          (w) =>
            w &&
            w.process.exitCode === null &&
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
function ask(w: Worker, msg: ToWorker, matches: (m: FromWorker) => boolean, timeoutMs?: number): Promise<FromWorker | undefined> {
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
