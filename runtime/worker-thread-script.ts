/**
 * The script and options to start a worker thread on one of the runtime's own modules, from either
 * layout: the compiled `.js` beside the caller when running from `dist/`, or — when running from the
 * TypeScript sources (tests, development) — `ts-worker-boot.mjs`, which registers tsx in the thread
 * (threads do not inherit the parent's loader hooks) and imports the `.ts` module.
 *
 *   new Worker(...workerThreadScript(new URL("./my-worker.ts", import.meta.url), { workerData }))
 */
import type { WorkerOptions } from "node:worker_threads";

const FROM_SOURCES = import.meta.url.endsWith(".ts");
/** The argument that tells ts-worker-boot.mjs which module to import. */
export const WORKER_ENTRY_ARG = "--bentoc-worker-entry";

export function workerThreadScript(source: URL, options: WorkerOptions = {}): [URL, WorkerOptions] {
  if (!source.pathname.endsWith(".ts")) throw new Error(`workerThreadScript takes the .ts module's URL, got ${source.href}`);
  if (!FROM_SOURCES) return [new URL(source.href.replace(/\.ts$/, ".js")), options];
  return [new URL("./ts-worker-boot.mjs", import.meta.url), { ...options, argv: [WORKER_ENTRY_ARG, source.href, ...(options.argv ?? [])] }];
}
