/**
 * Placeholder host: instantiates runner classes from the bundle and calls batchable methods directly
 * (no batching, no models). Replaced by the batching/runners work; the contract is runner-host.ts.
 */
import type { Manifest } from "../../sdk/manifest.ts";
import type { RunnerHandle, RunnerHost } from "./runner-host.ts";

export function createRunnerHost(manifest: Manifest, module: Record<string, unknown>): RunnerHost {
  const instances = new Map<string, Record<string, unknown>>();
  let ready = false;
  const handle = (name: string): RunnerHandle => ({
    name,
    async call(method, items) {
      const inst = instances.get(name);
      if (!inst) throw new Error(`runner ${name} is not loaded`);
      const fn = inst[method];
      if (typeof fn !== "function") throw new Error(`runner ${name} has no method ${method}`);
      return (await fn.call(inst, items)) as unknown[];
    },
  });
  return {
    runners: manifest.runners,
    get ready() {
      return ready;
    },
    async start() {
      for (const r of manifest.runners) {
        const Cls = module[r.className] as (new () => Record<string, unknown>) | undefined;
        if (typeof Cls !== "function") throw new Error(`bundle does not export runner class ${r.className}`);
        const inst = new Cls();
        if (typeof inst["setup"] === "function") await (inst["setup"] as () => Promise<void>).call(inst);
        instances.set(r.name, inst);
      }
      ready = true;
    },
    status: () => manifest.runners.map((r) => ({ name: r.name, ready: instances.has(r.name) })),
    handle,
    proxy(name) {
      const r = manifest.runners.find((x) => x.name === name);
      const h = handle(name);
      return Object.fromEntries((r?.methods ?? []).map((m) => [m.name, (items: unknown[]) => h.call(m.name, items)]));
    },
    async stop() {
      instances.clear();
      ready = false;
    },
  };
}
