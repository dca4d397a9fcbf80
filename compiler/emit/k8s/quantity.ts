/**
 * Kubernetes resource quantities, just enough to add up the resources of a service and its runners
 * (the monolith runs them in one process, so its pod asks for the sum). CPU is counted in millicores,
 * memory in bytes; results are written back in the plainest exact unit.
 */
import type { Resources } from "../../../sdk/types.ts";

const MEMORY_SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export class QuantityError extends Error {
  override name = "QuantityError";
}

/** `"500m"` → 500, `"2"` → 2000, `"1.5"` → 1500. */
export function parseCpuMillis(cpu: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(cpu.trim());
  if (!m) throw new QuantityError(`invalid cpu quantity "${cpu}" (expected e.g. "500m" or "2")`);
  const value = Number(m[1]);
  const millis = m[2] === "m" ? value : value * 1000;
  if (!Number.isInteger(millis)) throw new QuantityError(`cpu quantity "${cpu}" is finer than 1m`);
  return millis;
}

/** `"512Mi"` → 536870912, `"1G"` → 1e9. */
export function parseMemoryBytes(memory: string): number {
  const m = /^(\d+(?:\.\d+)?)(|k|M|G|T|Ki|Mi|Gi|Ti)$/.exec(memory.trim());
  if (!m) throw new QuantityError(`invalid memory quantity "${memory}" (expected e.g. "512Mi" or "1Gi")`);
  const bytes = Number(m[1]) * (MEMORY_SUFFIX[m[2] ?? ""] ?? 1);
  if (!Number.isInteger(bytes)) throw new QuantityError(`memory quantity "${memory}" is not a whole number of bytes`);
  return bytes;
}

export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

export function formatMemory(bytes: number): string {
  for (const unit of ["Ti", "Gi", "Mi", "Ki"] as const) {
    const size = MEMORY_SUFFIX[unit] ?? 1;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** The sum of several resource declarations; a field absent from all of them stays absent. */
export function sumResources(all: readonly Resources[]): Resources {
  const out: Resources = {};
  const cpus = all.flatMap((r) => (r.cpu === undefined ? [] : [parseCpuMillis(r.cpu)]));
  const mems = all.flatMap((r) => (r.memory === undefined ? [] : [parseMemoryBytes(r.memory)]));
  const gpus = all.flatMap((r) => (r.gpu === undefined ? [] : [r.gpu]));
  if (cpus.length) out.cpu = formatCpu(cpus.reduce((a, b) => a + b, 0));
  if (mems.length) out.memory = formatMemory(mems.reduce((a, b) => a + b, 0));
  if (gpus.length) out.gpu = gpus.reduce((a, b) => a + b, 0);
  return out;
}
