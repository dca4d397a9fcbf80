// Worker-thread bootstrap for development only (plain JS on purpose): when the runtime runs from its
// TypeScript sources, a worker thread does not inherit the parent's loader hooks, so this registers tsx
// (a devDependency) in the thread and then runs the TypeScript worker entry. From dist/, worker-placement
// starts the compiled worker-entry.js directly and this file is not used (nor shipped).
import { register } from "tsx/esm/api";

register();
await import(new URL("./worker-entry.ts", import.meta.url).href);
