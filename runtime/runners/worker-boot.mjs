// Worker-thread bootstrap (plain JS on purpose): registers tsx's loader in this thread, since workers do not
// inherit the parent's loader hooks, then runs the TypeScript worker entry.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
