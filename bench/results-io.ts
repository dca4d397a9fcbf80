/**
 * Small helpers shared by the benchmarks: where results go, the machine description every result
 * carries, medians, and writing `<name>.json` + `<name>.md` side by side.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-minute load average when the result was written (a busy machine skews every figure). */
  loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
  };
}

/** The line under each result's title: when, on what, and how busy the machine was. */
export function machineLine(generatedAt: string, m: MachineInfo): string {
  return `${generatedAt} · ${m.cpus} × ${m.cpuModel} · node ${m.node} · load average at the end ${m.loadAverage1m}`;
}

/** Median of a[i] / b[i]: for interleaved rounds, pairing within a round cancels a drifting machine. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] ?? NaN)));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Writes bench/results/<name>.json and bench/results/<name>.md; returns their paths. */
export function writeResults(name: string, json: unknown, markdown: string): { json: string; md: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const paths = { json: join(RESULTS_DIR, `${name}.json`), md: join(RESULTS_DIR, `${name}.md`) };
  writeFileSync(paths.json, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(paths.md, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return paths;
}

/** A GitHub-flavoured markdown table. */
export function mdTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cols: readonly (string | number)[]) => `| ${cols.map(String).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function fixed(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
}

/** True when `fileUrl` (a module's import.meta.url) is the script node was started with. */
export function isMain(fileUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(fileUrl) === resolve(process.argv[1]);
}
