/**
 * `bentoc bench`: for each batching setting, reconfigure the runner through the server's admin route,
 * drive load, read each runner's batch sizes from the server's own /metrics (and from the split-out
 * runners' when given), and tabulate.
 */

import { METRIC_NAMES } from "../contract/metric-names.ts";
import { ADMIN_BATCHING_ROUTE, SERVER_ROUTES } from "../contract/server-routes.ts";
import { type LoadResult, runLoad } from "./load-generator.ts";

export type BatchSetting = { label: string; enabled: boolean; maxLatencyMs?: number; maxBatchSize?: number };

export interface BenchOptions {
  url: string;
  /** API name or route. */
  api: string;
  payload: string | Uint8Array;
  contentType: string;
  concurrency?: number;
  rate?: number;
  durationMs: number;
  warmupMs: number;
  settings: BatchSetting[];
  /** Runner to reconfigure (default: every runner of the service). */
  runner?: string;
  /** More /metrics URLs to read batch sizes from: the runner processes of a split deployment. */
  metricsUrls?: string[];
  /** The server's admin token (`bentoc serve --admin` prints it; `BENTOC_ADMIN_TOKEN`). */
  adminToken: string;
  sloP95Ms?: number;
  log?: (line: string) => void;
}

/** What one runner did during the measured part of a run (warm-up excluded), from its batch-size histogram. */
export interface RunnerBatching {
  /** Items per executed batch; null when it executed none. */
  meanBatchSize: number | null;
  /** Items it executed per second. */
  itemsPerS: number;
}

export interface BenchRow extends LoadResult {
  setting: string;
  /** Per runner name. */
  runners: Record<string, RunnerBatching>;
}

export interface BenchReport {
  url: string;
  api: string;
  mode: string;
  rows: BenchRow[];
  recommended: string | null;
}

/** `off`, `adaptive`, `10` (window ms) or `10/32` (window ms / max batch size). */
export function parseSettings(spec: string): BatchSetting[] {
  return spec.split(",").map((raw) => {
    const s = raw.trim();
    if (s === "off") return { label: "off", enabled: false };
    if (s === "adaptive") return { label: "adaptive", enabled: true };
    const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(s);
    if (!m) throw new Error(`invalid batching setting '${s}': use off, adaptive, <ms> or <ms>/<max batch size>`);
    const setting: BatchSetting = { label: s, enabled: true, maxLatencyMs: Number(m[1]) };
    if (m[2]) setting.maxBatchSize = Number(m[2]);
    return setting;
  });
}

type Totals = Map<string, { sum: number; count: number }>;

/** Items (the histogram's sum) and batches (its count) per runner, over every method, from Prometheus text. */
export function batchTotals(metricsText: string, into: Totals = new Map()): Totals {
  const line = new RegExp(`^${METRIC_NAMES.batchSize}_(sum|count)\\{([^}]*)\\} (\\S+)$`, "gm");
  for (const m of metricsText.matchAll(line)) {
    const runner = /(?:^|,)runner_name="((?:[^"\\]|\\.)*)"/.exec(m[2]!)?.[1];
    if (runner === undefined) continue;
    const t = into.get(runner) ?? { sum: 0, count: 0 };
    if (m[1] === "sum") t.sum += Number(m[3]);
    else t.count += Number(m[3]);
    into.set(runner, t);
  }
  return into;
}

async function runnerTotals(urls: readonly string[]): Promise<Totals> {
  const totals: Totals = new Map();
  for (const url of urls) batchTotals(await (await fetch(new URL(SERVER_ROUTES.metrics, url))).text(), totals);
  return totals;
}

function batchingBetween(before: Totals, after: Totals, seconds: number): Record<string, RunnerBatching> {
  const out: Record<string, RunnerBatching> = {};
  for (const name of [...after.keys()].sort()) {
    const a = after.get(name)!;
    const b = before.get(name) ?? { sum: 0, count: 0 };
    const batches = a.count - b.count;
    out[name] = { meanBatchSize: batches > 0 ? (a.sum - b.sum) / batches : null, itemsPerS: seconds > 0 ? (a.sum - b.sum) / seconds : 0 };
  }
  return out;
}

async function resolveRoute(url: string, api: string): Promise<{ path: string; method: "GET" | "POST" }> {
  if (api.startsWith("/")) return { path: api, method: "POST" };
  const doc = (await (await fetch(new URL(SERVER_ROUTES.openapi, url))).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op.operationId === api) return { path, method: method.toUpperCase() === "GET" ? "GET" : "POST" };
    }
  }
  throw new Error(`no API named '${api}' at ${url} (see ${url}${SERVER_ROUTES.openapi})`);
}

async function applySetting(url: string, setting: BatchSetting, runner: string | undefined, adminToken: string): Promise<void> {
  // Every setting starts from the configured one with a fresh latency model; a window is a classic fixed one
  // (wait for a full batch or the window's end), `adaptive` is bentoc's own hold policy, untuned.
  const body: Record<string, unknown> = { reset: true, enabled: setting.enabled };
  if (setting.maxLatencyMs !== undefined) body["policy"] = "fixed";
  if (runner) body["runner"] = runner;
  if (setting.maxLatencyMs !== undefined) body["maxLatencyMs"] = setting.maxLatencyMs;
  if (setting.maxBatchSize !== undefined) body["maxBatchSize"] = setting.maxBatchSize;
  const res = await fetch(new URL(ADMIN_BATCHING_ROUTE, url), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
  if (res.status === 401) throw new Error("the admin token was refused: pass the one `bentoc serve --admin` printed (--admin-token or BENTOC_ADMIN_TOKEN)");
  if (!res.ok) throw new Error(`could not reconfigure batching (${res.status}): ${await res.text()} — start the server with --admin`);
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const route = await resolveRoute(options.url, options.api);
  const target = new URL(route.path, options.url).toString();
  const rows: BenchRow[] = [];
  const mode = options.rate !== undefined ? `open loop ${options.rate} req/s` : `closed loop ${options.concurrency ?? 80} clients`;
  const metricsUrls = [options.url, ...(options.metricsUrls ?? [])];
  for (const setting of options.settings) {
    await applySetting(options.url, setting, options.runner, options.adminToken);
    log(`bench: ${setting.label} (${mode}, ${options.durationMs / 1000}s)…`);
    // The runners' totals when the warm-up ends and when the measured window does: that window alone. Read when the measured window opens and when it closes (not after the load has drained: the calls in
    // flight at the end would otherwise be counted in a window that is over).
    const totalsAt = (ms: number) => new Promise<Totals>((resolve, reject) => setTimeout(() => runnerTotals(metricsUrls).then(resolve, reject), ms));
    const measureStart = totalsAt(options.warmupMs);
    const measureEnd = totalsAt(options.warmupMs + options.durationMs);
    const loadOptions: Parameters<typeof runLoad>[0] = {
      url: target,
      method: route.method,
      body: options.payload,
      headers: { "content-type": options.contentType },
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
    };
    if (options.rate !== undefined) loadOptions.rate = options.rate;
    else loadOptions.concurrency = options.concurrency ?? 80;
    const result = await runLoad(loadOptions);
    rows.push({ ...result, setting: setting.label, runners: batchingBetween(await measureStart, await measureEnd, options.durationMs / 1000) });
  }
  await applySetting(options.url, { label: "adaptive", enabled: true }, options.runner, options.adminToken);
  const eligible = rows.filter((r) => r.errors === 0 && (options.sloP95Ms === undefined || r.latencyMs.p95 <= options.sloP95Ms));
  const best = eligible.sort((a, b) => b.rps - a.rps)[0];
  return { url: options.url, api: options.api, mode, rows, recommended: best?.setting ?? null };
}

/** One row per setting; a "batch <runner>" column per runner: its mean batch size in the measured window. */
export function formatTable(report: BenchReport): string {
  const runners = [...new Set(report.rows.flatMap((r) => Object.keys(r.runners)))].sort();
  const header = ["setting", "req/s", "p50 ms", "p95 ms", "p99 ms", ...runners.map((n) => `batch ${n}`), "errors"];
  const lines = report.rows.map((r) => [
    r.setting,
    r.rps.toFixed(1),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p95.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    ...runners.map((n) => {
      const mean = r.runners[n]?.meanBatchSize;
      return mean === null || mean === undefined ? "-" : mean.toFixed(2);
    }),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const out = [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(fmt)];
  out.push("", report.recommended ? `recommended: ${report.recommended}` : "recommended: none met the bounds");
  return out.join("\n");
}

/** A small SVG: bars for req/s, a line for p95, one group per setting. */
export function renderChart(report: BenchReport): string {
  const w = 640;
  const h = 320;
  const pad = 48;
  const n = report.rows.length || 1;
  const maxRps = Math.max(1, ...report.rows.map((r) => r.rps));
  const maxP95 = Math.max(1, ...report.rows.map((r) => r.latencyMs.p95));
  const slot = (w - 2 * pad) / n;
  const y = (v: number, max: number) => h - pad - (v / max) * (h - 2 * pad);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
    `<text x="${pad}" y="20" font-size="13">${report.api}: req/s (bars) and p95 ms (line), ${report.mode}</text>`,
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/>`,
  ];
  const points: string[] = [];
  report.rows.forEach((r, i) => {
    const x = pad + i * slot;
    const top = y(r.rps, maxRps);
    parts.push(
      `<rect x="${(x + slot * 0.15).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(h - pad - top).toFixed(1)}" fill="#4c78a8"/>`,
    );
    parts.push(`<text x="${(x + slot / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle">${r.rps.toFixed(0)}</text>`);
    parts.push(`<text x="${(x + slot / 2).toFixed(1)}" y="${h - pad + 16}" text-anchor="middle">${r.setting}</text>`);
    points.push(`${(x + slot / 2).toFixed(1)},${y(r.latencyMs.p95, maxP95).toFixed(1)}`);
  });
  parts.push(`<polyline points="${points.join(" ")}" fill="none" stroke="#e45756" stroke-width="2"/>`);
  report.rows.forEach((r, i) => {
    const [px, py] = (points[i] ?? "0,0").split(",");
    parts.push(
      `<circle cx="${px}" cy="${py}" r="3" fill="#e45756"/><text x="${px}" y="${Number(py) - 6}" fill="#e45756" text-anchor="middle">${r.latencyMs.p95.toFixed(0)}ms</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
