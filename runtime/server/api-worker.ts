/**
 * The entry of one API worker process (started by worker-pool.ts with node:cluster). It waits for its
 * init message, serves the compiled directory on the pool's port (sharing it with its siblings), and
 * answers the parent's reload, shutdown and metrics messages. Terminal signals reach the whole process
 * group; the parent decides when workers stop, so they are ignored here.
 */

import { PortInUseError } from "../http/transport.ts";
import { createLogger } from "../logging/logger.ts";
import { type ServedService, serveCompiledDir } from "../serve-compiled.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-messages.ts";

const send = (m: FromWorker): void => void process.send?.(m);

async function runWorker(init: WorkerInit): Promise<void> {
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
  let served: ServedService;
  try {
    served = await serveCompiledDir(init.dir, init.config, {
      signals: false,
      print: () => {},
      sharedPort: true,
      logger: createLogger({ level: init.config.logging.level, fields: { worker: init.index } }),
      metricsSource: { contentType: "text/plain; version=0.0.4; charset=utf-8", metricsText },
    });
  } catch (err) {
    send({ type: "failed", message: (err as Error).message, portInUse: err instanceof PortInUseError });
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

process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
const onInit = (m: ToWorker): void => {
  if (m.type !== "init") return;
  process.off("message", onInit);
  void runWorker(m);
};
process.on("message", onInit);
send({ type: "hello" });
