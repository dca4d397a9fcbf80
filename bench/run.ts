/**
 * `npm run bench`: every benchmark in sequence, each writing bench/results/<name>.{json,md}, then
 * bench/results/SUMMARY.md with the headline figures next to each issue's targets and the machine.
 *
 *   compile                  issue 3, 16  cold `bentoc compile` and --watch recompile of support-tickets, before (6b3e108) and after
 *   server-overhead          issue 13 JSON echo: bentoc on each HTTP backend vs that backend bare (autocannon, 64 connections)
 *   request-instructions     issue 13 the node:http echo servers under callgrind: main-thread instructions per request
 *                                     (steady on a shared machine, unlike req/s); needs valgrind
 *   telemetry-overhead       issue 8  per-request cost of the telemetry calls, no HTTP (micro)
 *   http-telemetry-overhead  issue 8  JSON echo with metrics / tracing 1.0 / both vs both off;
 *                                     issue 16: tracing loss ≤ 15 %, metrics loss ≤ 3 %
 *   batching                 issue 5  `bentoc bench` on support-tickets (full MiniLM), off/adaptive/windows, ceiling;
 *                                     issue 15: /classify at c=80 with 1 and 8 texts per request: items/s ÷ the ceiling
 *   package-footprint        issue 12 bentoc installed into a new project, before (96cb8f6) and after: install time and
 *                                     size, `bentoc --help`, serve → /readyz and RSS on the tabular sample
 *   serve-footprint          issue 16 `bentoc serve <compiled dir>` of the tabular sample, before (6b3e108) and after the
 *                                     start-up work: spawn → /readyz, CPU time at ready, RSS; a profile of where the rest goes
 *   registry-transfer        issue 18 `bentoc models push`/`pull` of the full MiniLM model (87 MB) to a local docker-registry
 *                                     (TLS + htpasswd), the second push, a push under a new tag; load average beside each run
 *   streaming                issue 17 streaming-text sample: time to first item and items/s, 1 and 32 concurrent streams
 *
 *   npm run bench                                  everything, full length (run it on a quiet machine)
 *   npm run bench -- --only batching,compile       a subset (the summary keeps the other stages' last results, marked)
 *   npm run bench -- --quick                       shorter durations and fewer rounds
 *   BENCH_DURATION_S=3 npm run bench               seconds per load run (server-overhead and http-telemetry-overhead
 *                                                  rounds, each batching setting)
 *   BENCH_ROUNDS=2 npm run bench                   interleaved rounds of the two HTTP overhead benches
 *
 * A stage that fails is recorded in the summary and the others still run; the exit code is 1 if any failed.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBatchingBench } from "./batching.ts";
import { runCompileBench } from "./compile.ts";
import { runHttpTelemetryOverheadBench } from "./http-telemetry-overhead.ts";
import { DEFAULT_BEFORE, runPackageFootprintBench } from "./package-footprint.ts";
import { runRegistryTransferBench } from "./registry-transfer.ts";
import { runRequestInstructionsBench } from "./request-instructions.ts";
import { fixed, type MachineInfo, machineInfo, mdTable, RESULTS_DIR } from "./results-io.ts";
import { runServeFootprintBench, SERVE_FOOTPRINT_BEFORE, SERVE_READY_TARGET_MS, SERVE_RSS_TARGET_MB } from "./serve-footprint.ts";
import { runServerOverheadBench } from "./server-overhead.ts";
import { runStreamingBench } from "./streaming.ts";
import { runAndWriteTelemetryOverheadBench } from "./telemetry-overhead.ts";

interface Settings {
  quick: boolean;
  durationS: number | undefined;
  rounds: number | undefined;
}

interface Stage {
  name: string;
  issue: number;
  describe(s: Settings): string;
  run(s: Settings, log: (line: string) => void): Promise<unknown>;
}

const STAGES: readonly Stage[] = [
  {
    name: "compile",
    issue: 16,
    describe: (s) => (s.quick ? "3 cold compiles, 3 watch edits, before and after" : "5 cold compiles, 5 watch edits, before and after"),
    run: (s) => runCompileBench(s.quick ? { coldRuns: 3, watchEdits: 3 } : {}),
  },
  {
    name: "server-overhead",
    issue: 13,
    describe: (s) => `${httpDuration(s)} s × ${s.rounds ?? (s.quick ? 2 : 5)} rounds × 8 servers (two under Node 24)`,
    run: (s, log) => runServerOverheadBench({ durationS: httpDuration(s), rounds: s.rounds ?? (s.quick ? 2 : 5), log }),
  },
  {
    name: "request-instructions",
    issue: 13,
    describe: (s) => `${s.quick ? "10,000" : "30,000"} warm-up + ${s.quick ? "3,000" : "10,000"} counted requests × 4 servers under valgrind's callgrind`,
    run: (s, log) => runRequestInstructionsBench(s.quick ? { warmRequests: 10_000, requests: 3_000, log } : { log }),
  },
  {
    name: "telemetry-overhead",
    issue: 8,
    describe: (s) => `${s.quick ? "20,000" : "100,000"} simulated requests × 3 rounds × 5 variants`,
    run: (s) => runAndWriteTelemetryOverheadBench(s.quick ? { requests: 20_000 } : {}),
  },
  {
    name: "http-telemetry-overhead",
    issue: 8,
    describe: (s) => `${httpDuration(s)} s × ${s.rounds ?? (s.quick ? 2 : 5)} rounds × 4 variants`,
    run: (s, log) => runHttpTelemetryOverheadBench({ durationS: httpDuration(s), rounds: s.rounds ?? (s.quick ? 2 : 5), log }),
  },
  {
    name: "batching",
    issue: 5,
    describe: (s) => `${batchingDuration(s)} s per setting × 8 settings, plus the model build and 9 ceiling measurements`,
    run: (s, log) => runBatchingBench({ durationS: batchingDuration(s), log }),
  },
  {
    name: "package-footprint",
    issue: 12,
    describe: (s) => `before (${DEFAULT_BEFORE}) and after: ${s.quick ? 1 : 2} interleaved install rounds each, 10 --help, 5 serve → ready`,
    run: (s, log) => runPackageFootprintBench({ rounds: s.quick ? 1 : 2, log }),
  },
  {
    name: "serve-footprint",
    issue: 16,
    describe: (s) =>
      `tabular sample, before (${SERVE_FOOTPRINT_BEFORE}) and after: ${s.quick ? 3 : 7} interleaved serve → /readyz runs each, one profiled start-up`,
    run: (s, log) => runServeFootprintBench({ runs: s.quick ? 3 : 7, log }),
  },
  {
    name: "registry-transfer",
    issue: 18,
    describe: (s) => `${s.quick ? 1 : 3} rounds of push, second push, push under a new tag, pull (full MiniLM, local registry)`,
    run: (s, log) => runRegistryTransferBench({ rounds: s.quick ? 1 : 3, log }),
  },
  {
    name: "streaming",
    issue: 17,
    describe: (s) => `streaming-text, 1 and 32 concurrent streams of 200 characters × ${s.quick ? 1 : 3} rounds`,
    run: (s, log) => runStreamingBench({ rounds: s.quick ? 1 : 3, log }),
  },
];

function httpDuration(s: Settings): number {
  return s.durationS ?? (s.quick ? 3 : 5);
}
function batchingDuration(s: Settings): number {
  return s.durationS ?? (s.quick ? 5 : 20);
}

// ---------------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------------

/** Result files are read back loosely (older files may lack fields). */
type Json = Record<string, any>;

interface TargetRow {
  issue: string;
  measure: string;
  measured: string;
  target: string;
  met: string;
}

const yesNo = (b: boolean | null | undefined): string => (b === null || b === undefined ? "–" : b ? "yes" : "**no**");

function readResult(name: string): Json | null {
  const file = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Json;
  } catch {
    return null;
  }
}

function resultDate(name: string, json: Json): string {
  if (typeof json["generatedAt"] === "string") return json["generatedAt"];
  return `unknown (file modified ${statSync(join(RESULTS_DIR, `${name}.json`)).mtime.toISOString()})`;
}

function num(x: unknown): number {
  return typeof x === "number" ? x : NaN;
}

function targetRows(name: string, r: Json): { rows: TargetRow[]; headline: string[] } {
  switch (name) {
    case "compile": {
      const cold = num(r["coldCompileMs"]?.median);
      const watch = num(r["watchRecompileMs"]?.medianReported);
      const wall = num(r["watchRecompileMs"]?.medianWall);
      const beforeCold = num(r["before"]?.coldCompileMs?.median);
      const beforeWatch = num(r["before"]?.watchRecompileMs?.medianReported);
      const before = (x: number) => (Number.isFinite(x) ? ` (before ${r["before"]?.ref}: ${fixed(x, 0)})` : "");
      return {
        rows: [
          {
            issue: "16",
            measure: "cold `bentoc compile` of support-tickets, type checking on (median, ms)",
            measured: `${fixed(cold, 0)}${before(beforeCold)}; CPU ${fixed(num(r["after"]?.coldCompileCpuMs?.median), 0)}${before(num(r["before"]?.coldCompileCpuMs?.median))}`,
            target: "≤ 1000",
            met: yesNo(Number.isFinite(cold) ? cold <= 1000 : null),
          },
          {
            issue: "16",
            measure: "`--watch` recompile after a one-line edit (median reported, ms)",
            measured: `${fixed(watch, 0)}${before(beforeWatch)} (edit → summary wall ${fixed(wall, 0)})`,
            target: "≤ 100",
            met: yesNo(Number.isFinite(watch) ? watch <= 100 : null),
          },
          {
            issue: "3",
            measure: "cold `bentoc compile` of support-tickets (median, ms)",
            measured: fixed(cold, 0),
            target: "≤ 1500",
            met: yesNo(Number.isFinite(cold) ? cold <= 1500 : null),
          },
          {
            issue: "3",
            measure: "`--watch` recompile after a one-line edit (median reported, ms)",
            measured: fixed(watch, 0),
            target: "≤ 300",
            met: yesNo(Number.isFinite(watch) ? watch <= 300 : null),
          },
        ],
        headline: [`cold compile ${fixed(cold, 0)} ms${before(beforeCold)}, watch recompile ${fixed(watch, 0)} ms${before(beforeWatch)}`],
      };
    }
    case "server-overhead": {
      const newer = String(r["newerNode"]);
      const res = (k: string) => fixed(num(r["results"]?.[k]?.requestsPerSec), 0);
      // The target is on throughput (the median of per-round ratios); the ratio of the servers' own CPU time
      // per request stands beside it, since on a shared 2-core machine either can swing between rounds.
      const row = (key: string, measure: string, target: number): TargetRow => {
        const rate = num(r["ratios"]?.[key]);
        const cpu = num(r["cpuRatios"]?.[key]);
        return {
          issue: "13",
          measure,
          measured: `${fixed(rate, 3)} (by CPU per request ${fixed(cpu, 3)})`,
          target: `≥ ${target.toFixed(2)}`,
          met: yesNo(Number.isFinite(rate) ? rate >= target : null),
        };
      };
      return {
        rows: [
          row("uwsBackendVsBareUws", "echo req/s, bentoc on uWS / bare uWS (64 connections)", 0.9),
          row("nodeBackendVsBareNodeHttp", "echo req/s, bentoc on node:http / bare node:http", 0.95),
          row(
            "nodeBackendVsBareNodeHttpOnNode24",
            `echo req/s, bentoc on node:http / bare node:http, both under Node ${newer} (node:http is the default there)`,
            0.95,
          ),
        ],
        headline: [
          `req/s: bare uWS ${res("uws")}, bentoc on uWS ${res("bentoc-uws")} (${res("bentoc-uws-log")} with access log), bare node:http ${res("node")}, bentoc on node:http ${res("bentoc-node")} (${res("bentoc-node-log")} with access log); Node ${newer}: bare node:http ${res("node@24")}, bentoc on node:http ${res("bentoc-node@24")}`,
        ],
      };
    }
    case "request-instructions": {
      const newer = String(r["newerNode"]);
      const row = (key: string, measure: string): TargetRow => ({
        issue: "13",
        measure,
        measured: fixed(num(r["ratios"]?.[key]), 3),
        target: "recorded",
        met: "–",
      });
      const per = (k: string) => fixed(num(r["instructionsPerRequest"]?.[k]), 0);
      return {
        rows: [
          row("bareNodeHttpVsNodeBackend", "echo instructions per request (main thread, callgrind), bare node:http / bentoc on node:http"),
          row("bareNodeHttpVsNodeBackendOnNode24", `same, both under Node ${newer}`),
        ],
        headline: [
          `instructions per request: bare node:http ${per("node")}, bentoc on node:http ${per("bentoc-node")}; Node ${newer}: bare ${per("node@24")}, bentoc ${per("bentoc-node@24")}`,
        ],
      };
    }
    case "telemetry-overhead": {
      const results = (r["results"] ?? []) as Json[];
      const ns = (v: string) => num(results.find((x) => x["variant"] === v)?.["nsPerRequest"]);
      const noop = ns("noop");
      const row = (v: string, label: string, issue = "8", before = ""): TargetRow => ({
        issue,
        measure: `micro: ${label}, added ns per request (no HTTP; 4 spans, 9 metric updates)${before}`,
        measured: `+${fixed(ns(v) - noop, 0)} ns (${fixed(ns(v), 0)} vs ${fixed(noop, 0)} no-op)`,
        target: "recorded",
        met: "–",
      });
      return {
        rows: [
          row("metrics-on/tracing-off", "metrics on"),
          row("metrics-off/tracing-1.0", "tracing 1.0", "16", " (before: +46 833 ns with OTLP JSON export)"),
          row("metrics-off/tracing-1.0/no-export", "tracing 1.0, spans dropped at export", "16", " (before: +21 303 ns)"),
          row("metrics-on/tracing-1.0", "both"),
        ],
        headline: [`ns per request: ${results.map((x) => `${x["variant"]} ${x["nsPerRequest"]}`).join(", ")}`],
      };
    }
    case "http-telemetry-overhead": {
      const h = (r["headline"] ?? {}) as Json;
      const results = (r["results"] ?? []) as Json[];
      const row = (label: string, ratio: number, pct: number): TargetRow => ({
        issue: "8",
        measure: `HTTP echo, ${label} vs both off: req/s ratio (throughput lost)`,
        measured: `${fixed(ratio, 3)} (${fixed(pct, 1)} %)`,
        target: "recorded",
        met: "–",
      });
      const exported = results
        .filter((x) => x["tracingExport"])
        .map(
          (x) =>
            `${x["variant"]}: ${x["tracingExport"].spans} spans in ${x["tracingExport"].requests} OTLP POSTs (${fixed(num(x["tracingExport"].spansExportedPerRequest), 2)} per request)`,
        );
      // Issue 16: the loss targets, before = the issue's figures (OTel SDK spans + OTLP JSON, 2026-11-26).
      const cpuPct = (k: string) => num(h[k]);
      const lossRow = (label: string, pct: number, cpu: number, before: string, limit: number): TargetRow => ({
        issue: "16",
        measure: `HTTP echo throughput lost, ${label} (before: ${before}); from server CPU per request in brackets`,
        measured: `${fixed(pct, 1)} % (${fixed(cpu, 1)} %)`,
        target: `≤ ${limit} %`,
        met: yesNo(Number.isFinite(pct) ? pct <= limit : null),
      });
      return {
        rows: [
          row("metrics on", num(h["metricsRatioToOff"]), num(h["metricsOverheadPct"])),
          row("tracing 1.0 (OTLP/HTTP export)", num(h["tracingRatioToOff"]), num(h["tracingOverheadPct"])),
          row("metrics on + tracing 1.0", num(h["bothRatioToOff"]), num(h["bothOverheadPct"])),
          lossRow("tracing at sample rate 1.0, OTLP/HTTP protobuf", num(h["tracingOverheadPct"]), cpuPct("tracingCpuOverheadPct"), "70 %", 15),
          lossRow("metrics on", num(h["metricsOverheadPct"]), cpuPct("metricsCpuOverheadPct"), "7 %", 3),
        ],
        headline: [
          `req/s (median): ${results.map((x) => `${x["variant"]} ${fixed(num(x["medianRequestsPerSec"]), 0)}`).join(", ")}`,
          `server CPU µs per request (median): ${results.map((x) => `${x["variant"]} ${fixed(num(x["medianCpuUsPerRequest"]), 1)}`).join(", ")}`,
          `exported to the OTLP sink: ${exported.join("; ")}`,
        ],
      };
    }
    case "batching": {
      const t = (r["targets"] ?? {}) as Json;
      const rows = ((r["closed"]?.rows ?? []) as Json[]).map((x) => `${x["setting"]} ${fixed(num(x["rps"]), 1)}`);
      const open = (r["open"]?.rows ?? [])[0] as Json | undefined;
      const cmp = (v: unknown, ok: (x: number) => boolean) => yesNo(typeof v === "number" && Number.isFinite(v) ? ok(v) : null);
      const classify = (key: string, label: string, issue = "15"): TargetRow[] => {
        const c = r["classify"]?.[key] as Json | undefined;
        if (!c) return [];
        const batch = (n: string) => fixed(num(c["meanBatchSize"]?.[n]), 2);
        return [
          {
            issue,
            measure: `/classify at c=80, ${label} per request: items/s ÷ the encoder's raw ceiling`,
            measured: `${fixed(num(c["overCeiling"]), 3)} (${fixed(num(c["itemsPerS"]), 1)} of ${fixed(num(c["ceilingItemsPerS"]), 1)} items/s; ÷ the run's best ceiling ${fixed(num(c["overRunCeiling"]), 3)}; mean batch embedding ${batch("embedding")}, classifier ${batch("classifier")}; load ${fixed(num(c["loadAverage1m"]), 2)})`,
            target: "recorded",
            met: "–",
          },
        ];
      };
      return {
        rows: [
          ...classify("oneText", "1 text"),
          ...classify("eightTexts", "8 texts"),
          ...classify("oneTextNodeHttp", "1 text on the node:http backend", "13"),
          {
            issue: "5",
            measure: "best setting req/s / batching off",
            measured: `${fixed(num(t["bestOverOff"]), 2)}×`,
            target: "≥ 2.0×",
            met: cmp(t["bestOverOff"], (x) => x >= 2),
          },
          {
            issue: "5",
            measure: "best setting req/s / raw onnxruntime ceiling",
            measured: fixed(num(t["bestOverCeiling"]), 3),
            target: "≥ 0.90",
            met: cmp(t["bestOverCeiling"], (x) => x >= 0.9),
          },
          {
            issue: "5",
            measure: "adaptive (untuned) req/s / best fixed window",
            measured: fixed(num(t["adaptiveOverBestFixed"]), 3),
            target: "≥ 0.95",
            met: cmp(t["adaptiveOverBestFixed"], (x) => x >= 0.95),
          },
          {
            issue: "5",
            measure: `p95 at the best setting${t["bestSetting"] ? ` (${t["bestSetting"]})` : ""}, ms`,
            measured: fixed(num(t["bestP95Ms"]), 1),
            target: `≤ ${fixed(num(t["bestP95BoundMs"]), 1)} (maxLatencyMs + 2 × full batch)`,
            met: cmp(t["bestP95Ms"], (x) => x <= num(t["bestP95BoundMs"])),
          },
          {
            issue: "5",
            measure: `open loop at 70 % of the ceiling (${r["open"]?.rate ?? "?"} req/s): p95, ms`,
            measured: fixed(num(t["openLoopP95Ms"]), 1),
            target: `≤ ${fixed(num(t["openLoopP95BoundMs"]), 1)} (3 × the batch that rate needs)`,
            met: cmp(t["openLoopP95Ms"], (x) => x <= num(t["openLoopP95BoundMs"])),
          },
        ],
        headline: [
          `closed loop, 80 clients, req/s: ${rows.join(", ")}`,
          `ceiling ${fixed(num(r["ceiling"]?.itemsPerS), 1)} items/s at batch ${r["ceiling"]?.bestBatch ?? "?"}; open loop ${fixed(num(open?.["rps"]), 1)} req/s, p95 ${fixed(num(open?.["latencyMs"]?.p95), 1)} ms, errors ${open?.["errors"] ?? "?"}`,
        ],
      };
    }
    case "package-footprint": {
      const b = (r["before"] ?? {}) as Json;
      const a = (r["after"] ?? {}) as Json;
      const mb = (x: unknown) => fixed(num(x) / 2 ** 20, 0);
      const pair = (label: string, get: (v: Json) => unknown, unit: string, digits = 0): TargetRow => ({
        issue: "12",
        measure: `${label}, before → after`,
        measured: `${fixed(num(get(b)), digits)} → ${fixed(num(get(a)), digits)} ${unit}`,
        target: "recorded",
        met: "–",
      });
      return {
        rows: [
          pair("install into a new project (median)", (v) => num(v["installMs"]?.median) / 1000, "s", 1),
          {
            issue: "12",
            measure: "node_modules of that project, before → after",
            measured: `${mb(b["nodeModulesBytes"])} → ${mb(a["nodeModulesBytes"])} MiB`,
            target: "recorded",
            met: "–",
          },
          pair("`bentoc --help` (median)", (v) => v["helpMs"]?.median, "ms"),
          pair("`bentoc serve <compiled dir>` → /readyz, tabular (median)", (v) => v["serveToReadyMs"]?.median, "ms"),
          pair("server RSS after ready + 50 requests (median)", (v) => v["serverRssMiB"]?.median, "MiB", 1),
        ],
        headline: [`before ${b["ref"] ?? "?"} vs after ${a["ref"] ?? "?"}; tarball ${b["tarball"]?.files ?? "?"} → ${a["tarball"]?.files ?? "?"} files`],
      };
    }
    case "serve-footprint": {
      const b = (r["before"] ?? {}) as Json;
      const a = (r["after"] ?? {}) as Json;
      const ready = num(a["serveToReadyMs"]?.median);
      const rss = num(a["serverRssMiB"]?.median);
      const rssMb = (rss * 2 ** 20) / 1e6;
      const load = r["loadAverage1m"] ? `load ${fixed(num(r["loadAverage1m"].min), 2)}–${fixed(num(r["loadAverage1m"].max), 2)}` : "load ?";
      return {
        rows: [
          {
            issue: "16",
            measure: `\`bentoc serve <compiled dir>\` → /readyz 200, tabular (median; before → after; ${load})`,
            measured: `${fixed(num(b["serveToReadyMs"]?.median), 0)} → ${fixed(ready, 0)} ms (server CPU at ready ${fixed(num(b["cpuAtReadyMs"]?.median), 0)} → ${fixed(num(a["cpuAtReadyMs"]?.median), 0)} ms)`,
            target: `≤ ${SERVE_READY_TARGET_MS} ms`,
            met: yesNo(Number.isFinite(ready) ? ready <= SERVE_READY_TARGET_MS : null),
          },
          {
            issue: "16",
            measure: "RSS of that server after ready + 50 requests (median; before → after)",
            measured: `${fixed(num(b["serverRssMiB"]?.median), 1)} → ${fixed(rss, 1)} MiB (${fixed(rssMb, 1)} MB)`,
            target: `≤ ${SERVE_RSS_TARGET_MB} MB`,
            met: yesNo(Number.isFinite(rss) ? rssMb <= SERVE_RSS_TARGET_MB : null),
          },
        ],
        headline: [`before ${b["ref"] ?? "?"} vs after ${a["ref"] ?? "?"}; where the rest goes: serve-footprint.md`],
      };
    }
    case "registry-transfer": {
      const load = (runs: unknown) => ((runs ?? []) as Json[]).map((x) => (Array.isArray(x["load"]) ? x["load"].join(" ") : "?")).join("; ");
      const row = (label: string, key: string, unit: "s" | "ms"): TargetRow => ({
        issue: "18",
        measure: `${label} (median; load average after each run: ${load(r[key]?.runs)})`,
        measured: unit === "s" ? `${fixed(num(r[key]?.median) / 1000, 2)} s` : `${fixed(num(r[key]?.median), 0)} ms`,
        target: "recorded",
        met: "–",
      });
      const mb = `${fixed(num(r["model"]?.bytes) / 1e6, 1)} MB (${fixed(num(r["model"]?.bytes) / 2 ** 20, 1)} MiB)`;
      return {
        rows: [
          row(`\`bentoc models push\` of the ${mb} MiniLM model to a local registry`, "pushMs", "s"),
          row("the second push (same tag)", "secondPushMs", "ms"),
          row("`bentoc models pull` into an empty store", "pullMs", "s"),
        ],
        headline: [
          `${r["model"]?.tag ?? "?"} (${mb}, ${r["model"]?.files ?? "?"} files) → ${r["registry"] ?? "?"}; push under a new tag ${fixed(num(r["newTagPushMs"]?.median), 0)} ms`,
        ],
      };
    }
    case "streaming": {
      const rows = (r["rows"] ?? []) as Json[];
      return {
        rows: rows.map((x) => ({
          issue: "17",
          measure: `${x["concurrency"]} concurrent stream(s): time to first item p50 / p95 (ms), items/s total, mean batch size`,
          measured: `${fixed(num(x["firstItemMs"]?.p50), 1)} / ${fixed(num(x["firstItemMs"]?.p95), 1)} ms, ${fixed(num(x["totalItemsPerS"]), 0)} items/s, batch ${fixed(num(x["meanBatchSize"]), 2)}`,
          target: "recorded",
          met: "–",
        })),
        headline: rows.map(
          (x) =>
            `${x["concurrency"]} streams: first item ${fixed(num(x["firstItemMs"]?.p50), 1)} ms, ${fixed(num(x["totalItemsPerS"]), 0)} items/s, batch ${fixed(num(x["meanBatchSize"]), 2)}`,
        ),
      };
    }
    default:
      return { rows: [], headline: [] };
  }
}

interface Outcome {
  stage: Stage;
  status: "ok" | "failed" | "not run";
  seconds: number;
  error?: string;
}

function renderSummary(outcomes: Outcome[], started: Date, machineStart: MachineInfo, settings: Settings, argv: string[]): string {
  const end = machineInfo();
  const out: string[] = [
    "# Benchmark summary",
    "",
    `Run: ${started.toISOString()} → ${new Date().toISOString()} · \`npm run bench${argv.length ? ` -- ${argv.join(" ")}` : ""}\``,
    `${settings.quick ? "quick mode · " : ""}BENCH_DURATION_S=${settings.durationS ?? "(default)"} · BENCH_ROUNDS=${settings.rounds ?? "(default)"}`,
    "",
    "## Machine",
    "",
    mdTable(
      ["cpus", "cpu model", "memory", "node", "platform", "load average (1 min) at start / end"],
      [
        [
          machineStart.cpus,
          machineStart.cpuModel,
          `${machineStart.memoryGiB} GiB`,
          machineStart.node,
          machineStart.platform,
          `${machineStart.loadAverage1m} / ${end.loadAverage1m}`,
        ],
      ],
    ),
    "",
    "A load average near or above the cpu count means other work shared the machine and every figure below is pessimistic.",
    "",
    "## Stages",
    "",
    mdTable(
      ["stage", "issue", "status", "time", "results"],
      outcomes.map((o) => {
        const json = readResult(o.stage.name);
        const status =
          o.status === "ok"
            ? "ok"
            : o.status === "failed"
              ? `**FAILED**: ${(o.error ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ")}`
              : json
                ? `not run this time; earlier result from ${resultDate(o.stage.name, json)}`
                : "not run; no earlier result";
        return [
          o.stage.name,
          o.stage.issue,
          status,
          o.status === "not run" ? "–" : `${o.seconds.toFixed(1)} s`,
          json ? `[${o.stage.name}.md](${o.stage.name}.md)` : "–",
        ];
      }),
    ),
    "",
    "## Targets",
    "",
    "Targets are recorded, not asserted. Issue 8 sets no number: it asks for the overhead to be recorded (and for tracing off to cost nothing).",
    "",
  ];
  const rows: TargetRow[] = [];
  const headlines: string[] = [];
  for (const o of [...outcomes].sort((a, b) => a.stage.issue - b.stage.issue)) {
    if (o.status === "failed") {
      rows.push({ issue: String(o.stage.issue), measure: o.stage.name, measured: "**FAILED** (see Stages)", target: "", met: "–" });
      continue;
    }
    const json = readResult(o.stage.name);
    if (!json) continue;
    const marker = o.status === "not run" ? " *(earlier run)*" : "";
    const t = targetRows(o.stage.name, json);
    for (const row of t.rows) rows.push({ ...row, measure: row.measure + marker });
    headlines.push(`- **${o.stage.name}**${marker}: ${t.headline.join("; ")}`);
  }
  out.push(
    mdTable(
      ["issue", "measure", "measured", "target", "met"],
      rows.map((r) => [r.issue, r.measure, r.measured, r.target, r.met]),
    ),
    "",
  );
  out.push("## Headline figures", "", ...headlines, "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

function usage(): string {
  return `usage: npm run bench -- [--only ${STAGES.map((s) => s.name).join(",")}] [--quick]\n  env: BENCH_DURATION_S (seconds per load run), BENCH_ROUNDS (rounds of the HTTP overhead benches)`;
}

function positiveEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let only: string[] | undefined;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--only")
      only = (argv[++i] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a.startsWith("--only="))
      only = a
        .slice("--only=".length)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a === "--help" || a === "-h") {
      console.log(usage());
      return 0;
    } else {
      console.error(`unknown argument '${a}'\n${usage()}`);
      return 2;
    }
  }
  const unknown = (only ?? []).filter((n) => !STAGES.some((s) => s.name === n));
  if (unknown.length > 0 || (only && only.length === 0)) {
    console.error(`unknown stage(s) ${unknown.join(", ") || "(none given)"}\n${usage()}`);
    return 2;
  }
  let settings: Settings;
  try {
    settings = { quick, durationS: positiveEnv("BENCH_DURATION_S"), rounds: positiveEnv("BENCH_ROUNDS") };
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }

  const started = new Date();
  const machine = machineInfo();
  const selected = STAGES.filter((s) => !only || only.includes(s.name));
  console.log(
    `bench: ${selected.map((s) => s.name).join(" → ")} on ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, load average ${machine.loadAverage1m}`,
  );

  // A rejection nobody awaits (a stray socket error in a bench) must fail the current stage, not the run.
  let stray: Error | undefined;
  const onStray = (err: unknown) => {
    stray = err instanceof Error ? err : new Error(String(err));
    console.error(`bench: unhandled error during the current stage: ${stray.stack ?? stray.message}`);
  };
  process.on("unhandledRejection", onStray);
  process.on("uncaughtException", onStray);

  const outcomes: Outcome[] = [];
  let n = 0;
  for (const stage of STAGES) {
    if (!selected.includes(stage)) {
      outcomes.push({ stage, status: "not run", seconds: 0 });
      continue;
    }
    n++;
    const tag = `[${n}/${selected.length}] ${stage.name}`;
    console.log(`${tag}: running (issue ${stage.issue}; ${stage.describe(settings)})`);
    const t0 = performance.now();
    stray = undefined;
    try {
      await stage.run(settings, (line) => console.log(`  ${line.trimStart()}`));
      if (stray) throw stray;
      const seconds = (performance.now() - t0) / 1000;
      outcomes.push({ stage, status: "ok", seconds });
      console.log(`${tag}: done in ${seconds.toFixed(1)} s → bench/results/${stage.name}.{json,md}`);
    } catch (err) {
      const seconds = (performance.now() - t0) / 1000;
      const message = err instanceof Error ? err.message : String(err);
      outcomes.push({ stage, status: "failed", seconds, error: message.split("\n")[0]!.slice(0, 300) });
      console.error(`${tag}: FAILED after ${seconds.toFixed(1)} s: ${err instanceof Error ? (err.stack ?? message) : message}`);
    }
  }

  const summary = renderSummary(outcomes, started, machine, settings, argv);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, "SUMMARY.md"), summary);
  const failed = outcomes.filter((o) => o.status === "failed");
  console.log(`bench: summary → bench/results/SUMMARY.md${failed.length ? `; FAILED: ${failed.map((o) => o.stage.name).join(", ")}` : ""}`);
  return failed.length > 0 ? 1 : 0;
}

const code = await main();
// Keep-alive sockets and timers left by the benches must not keep the process alive.
process.exit(code);
