// Worker-thread bootstrap for development only (plain JS on purpose): when the runtime runs from its
// TypeScript sources, a worker thread does not inherit the parent's loader hooks, so this registers tsx
// (a devDependency) in the thread and imports the module named after --bentoc-worker-entry. From dist/,
// worker-thread-script.ts starts the compiled module directly and this file is not used (nor shipped).
import { register } from "tsx/esm/api";

const at = process.argv.indexOf("--bentoc-worker-entry");
if (at < 0 || !process.argv[at + 1]) throw new Error("ts-worker-boot.mjs: no --bentoc-worker-entry argument");
register();
await import(process.argv[at + 1]);
