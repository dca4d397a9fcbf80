/**
 * HTTP-level telemetry overhead (issue 8): what Prometheus metrics and OpenTelemetry tracing at sample
 * rate 1.0 cost a real server, against both off, measured in one run.
 *
 * The same compiled service (the trivial JSON echo of bench/server-overhead.ts, so the per-request cost
 * of telemetry is not hidden behind model time) is served by `serveCompiledDir` in four child processes,
 * one per config variant:
 *
 *   A  metrics off, tracing off   (the baseline)
 *   B  metrics on,  tracing off
 *   C  metrics off, tracing 1.0
 *   D  metrics on,  tracing 1.0
 *
 * Tracing exports for real over OTLP/HTTP (protobuf, bentoc's batching queue, 2048 spans per POST) to a sink in its own
 * child process — a node:http server per tracing variant that accepts and discards `POST /v1/traces`,
 * counting requests, bytes and spans. autocannon (64 connections, as in server-overhead) drives the
 * variants in interleaved rounds (A B C D A B C D …) so a noisy neighbour hurts all alike; medians per
 * variant and ratios to A are reported. Access logs are off in every variant (their cost is measured by
 * server-overhead). Before the load, one probe request per variant checks that spans really reach the
 * sink; after it, /metrics is read back (metrics variants must count every request) and SIGTERM makes
 * each server flush its remaining spans, so the report shows how many spans were exported. The
 * export queue drops spans when it is full (OTEL_BSP_MAX_QUEUE_SIZE, default 8192) rather
 * than slow requests down; `spansExportedPerRequest` < 2 shows how many it dropped.
 *
 * Each round also reads the server's CPU time from /proc: CPU µs per request is the steadier measure on a
 * shared machine, and `--cpu-prof-dir DIR` writes V8 CPU profiles of each server into DIR/server-A … server-D
 * (the largest file is the main thread; the others are tsx's loader thread).
 *
 *   npx tsx bench/http-telemetry-overhead.ts [--duration 5] [--rounds 5] [--connections 64] [--cpu-prof-dir DIR]
 *   → bench/results/http-telemetry-overhead.{json,md}
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { ECHO_BODY as BODY, type LoadResult, loadEcho as load } from "./echo-load.ts";
import { countOtlpSpans } from "./otlp-span-count.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, median, medianRatio, writeResults } from "./results-io.ts";

const SELF = fileURLToPath(import.meta.url);
/** Spans one /echo request makes: the HTTP request span and the API handler span (no runner call). */
const SPANS_PER_REQUEST = 2;

interface Variant {
  key: string;
  name: string;
  metrics: boolean;
  tracing: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { key: "A", name: "metrics-off/tracing-off", metrics: false, tracing: false },
  { key: "B", name: "metrics-on/tracing-off", metrics: true, tracing: false },
  { key: "C", name: "metrics-off/tracing-1.0", metrics: false, tracing: true },
  { key: "D", name: "metrics-on/tracing-1.0", metrics: true, tracing: true },
];

interface SinkStats {
  requests: number;
  bytes: number;
  spans: number;
  unparsed: number;
}

// ---------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------

/** An OTLP/HTTP traces receiver that discards what it gets, counting it; GET /stats returns the counts. */
function startSink(): Promise<Server> {
  const stats: SinkStats = { requests: 0, bytes: 0, spans: 0, unparsed: 0 };
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/stats") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      stats.requests++;
      stats.bytes += body.length;
      try {
        stats.spans += countOtlpSpans(String(req.headers["content-type"]), body);
      } catch {
        stats.unparsed++; // counted as a request, spans unknown
      }
      res.writeHead(200, { "content-type": String(req.headers["content-type"]) }).end();
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function childSink(count: number): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(((await startSink()).address() as AddressInfo).port);
  process.stdout.write(`PORTS ${ports.join(",")}\n`);
}

async function childServer(): Promise<void> {
  const spec = JSON.parse(process.env["BENCH_VARIANT"] ?? "{}") as { dir: string; metrics: boolean; endpoint: string | null };
  const { defaultConfig } = await import("../runtime/config/config-defaults.ts");
  const { serveCompiledDir } = await import("../runtime/serve-compiled.ts");
  const config = defaultConfig();
  config.server = { ...config.server, host: "127.0.0.1", port: 0, accessLog: false };
  config.logging = { level: "error" };
  config.metrics = { ...config.metrics, enabled: spec.metrics };
  config.tracing = spec.endpoint
    ? { sampleRate: 1, endpoint: spec.endpoint, headers: {}, protocol: null }
    : { sampleRate: 0, endpoint: null, headers: {}, protocol: null };
  // SIGTERM (installed by serveCompiledDir) drains, flushes the remaining spans and exits 0.
  const served = await serveCompiledDir(spec.dir, config, { print: () => {} });
  process.stdout.write(`PORT ${served.port}\n`);
}

/** User + system CPU seconds a child process has used so far (Linux /proc; NaN elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

function spawnChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  marker: RegExp,
  nodeArgs: readonly string[] = [],
): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, [...nodeArgs, "--import", "tsx", SELF, "--child", ...args], { stdio: ["ignore", "pipe", "inherit"], env });
  return new Promise((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = marker.exec(buf);
      if (m) resolve({ proc, match: m });
    });
    proc.once("exit", (code) => reject(new Error(`bench child ${args.join(" ")} exited ${code} before it was ready`)));
  });
}

/** The environment of the children, without OTEL_* variables that could turn tracing on or redirect it. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("OTEL_")) env[k] = v;
  return { ...env, ...extra };
}

function stopChild(proc: ChildProcess, timeoutMs = 15_000): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    proc.kill("SIGTERM");
  });
}

// ---------------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------------

export interface HttpTelemetryOverheadOptions {
  durationS?: number;
  rounds?: number;
  connections?: number;
  /** Write a V8 CPU profile of each server process here (`--cpu-prof`), e.g. to see where tracing's time goes. */
  cpuProfDir?: string;
  log?: (line: string) => void;
}

interface VariantResult {
  key: string;
  variant: string;
  metrics: boolean;
  tracingSampleRate: number | null;
  perRound: { requestsPerSec: number; latencyAvgMs: number; latencyP50Ms: number; latencyP99Ms: number; non2xx: number; errors: number }[];
  medianRequestsPerSec: number;
  medianLatencyAvgMs: number;
  medianLatencyP50Ms: number;
  medianLatencyP99Ms: number;
  non2xx: number;
  errors: number;
  /** median rps / median rps of the all-off baseline. */
  ratioToOff: number;
  /** Median over rounds of (this variant's rps / the baseline's rps in the same round). */
  medianPerRoundRatioToOff: number;
  /** 1 - ratioToOff, in percent: the throughput lost to telemetry. */
  overheadPct: number;
  /** Server CPU time (user + system) per request served, µs, median over rounds. */
  medianCpuUsPerRequest: number;
  /**
   * Throughput lost as the server's CPU cost predicts it, 1 - cpu(A)/cpu(this), in percent: what the
   * throughput loss would be for a CPU-bound server on cores of its own. Much less sensitive than req/s
   * to other processes on a shared machine.
   */
  cpuOverheadPct: number;
  /**
   * Responses autocannon counted against this server (warm-up, probe and rounds). Each load run also leaves up
   * to `connections` requests in flight when it stops; the server answers (and counts, and traces) them too.
   */
  requestsSent: number;
  /** `sum(bentoc_api_server_request_total)` read back from /metrics after the load (null when metrics are off). */
  metricsRequestTotal: number | null;
  /** Whether /metrics exposed the bentoc series. */
  metricsExposed: boolean;
  tracingExport: null | (SinkStats & { probeSpans: number; spansExportedPerRequest: number; spansPerRequestCreated: number; serverExitCode: number | null });
}

async function sinkStats(port: number): Promise<SinkStats> {
  return (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as SinkStats;
}

async function metricsSnapshot(port: number): Promise<{ exposed: boolean; requestTotal: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("bentoc_api_server_request_total")) total += Number(line.split(" ").pop());
  }
  return { exposed: text.includes("bentoc_api_server_request_total"), requestTotal: total };
}

export async function runHttpTelemetryOverheadBench(options: HttpTelemetryOverheadOptions = {}): Promise<Record<string, unknown>> {
  const durationS = options.durationS ?? 5;
  const rounds = options.rounds ?? 5;
  const connections = options.connections ?? 64;
  const log = options.log ?? ((l: string) => console.log(l));
  const startedAt = new Date().toISOString();

  const { buildEchoDir } = await import("../test/fixtures/runtime/build-echo.ts");
  const dir = await buildEchoDir();
  const tracingVariants = VARIANTS.filter((v) => v.tracing);
  const procs: ChildProcess[] = [];
  const servers = new Map<string, { proc: ChildProcess; port: number; sinkPort: number | null }>();
  const sent = new Map<string, number>(VARIANTS.map((v) => [v.key, 0]));
  const runs = new Map<string, LoadResult[]>(VARIANTS.map((v) => [v.key, []]));
  const cpuPerRequest = new Map<string, number[]>(VARIANTS.map((v) => [v.key, []]));
  const probeSpans = new Map<string, number>();
  const metricsAfter = new Map<string, { exposed: boolean; requestTotal: number }>();
  const exitCodes = new Map<string, number | null>();
  const finalSink = new Map<string, SinkStats>();
  try {
    const sink = await spawnChild(["sink", String(tracingVariants.length)], childEnv({}), /PORTS ([\d,]+)/);
    procs.push(sink.proc);
    const sinkPorts = sink.match[1]!.split(",").map(Number);
    for (const v of VARIANTS) {
      const sinkPort = v.tracing ? sinkPorts[tracingVariants.indexOf(v)]! : null;
      const endpoint = sinkPort ? `http://127.0.0.1:${sinkPort}/v1/traces` : null;
      const profArgs = options.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", `${options.cpuProfDir}/server-${v.key}`] : [];
      const s = await spawnChild(["server"], childEnv({ BENCH_VARIANT: JSON.stringify({ dir, metrics: v.metrics, endpoint }) }), /PORT (\d+)/, profArgs);
      procs.push(s.proc);
      servers.set(v.key, { proc: s.proc, port: Number(s.match[1]), sinkPort });
    }

    // Probe: one request each; the spans must reach the sink (the export queue sends every 5 s when idle).
    for (const v of VARIANTS) {
      const res = await fetch(`http://127.0.0.1:${servers.get(v.key)!.port}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
      });
      if (res.status !== 200) throw new Error(`${v.name}: probe request answered ${res.status}: ${await res.text()}`);
      sent.set(v.key, sent.get(v.key)! + 1);
    }
    const probeDeadline = Date.now() + 12_000;
    for (const v of tracingVariants) {
      const port = servers.get(v.key)!.sinkPort!;
      let spans = 0;
      while (Date.now() < probeDeadline) {
        spans = (await sinkStats(port)).spans;
        if (spans >= SPANS_PER_REQUEST) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      probeSpans.set(v.key, spans);
      if (spans < SPANS_PER_REQUEST)
        throw new Error(`${v.name}: the sink got ${spans} spans for the probe request (expected ${SPANS_PER_REQUEST}); tracing is not exporting`);
      log(`  ${v.key} ${v.name}: probe exported ${spans} spans`);
    }

    for (const v of VARIANTS) {
      const r = await load(servers.get(v.key)!.port, Math.min(2, durationS), connections); // warm-up (JIT, connections)
      sent.set(v.key, sent.get(v.key)! + r.requests.total);
    }
    for (let round = 0; round < rounds; round++) {
      for (const v of VARIANTS) {
        const server = servers.get(v.key)!;
        const cpu0 = cpuSeconds(server.proc.pid);
        const r = await load(server.port, durationS, connections);
        const cpu1 = cpuSeconds(server.proc.pid);
        runs.get(v.key)!.push(r);
        cpuPerRequest.get(v.key)!.push(((cpu1 - cpu0) / r.requests.total) * 1e6);
        sent.set(v.key, sent.get(v.key)! + r.requests.total);
        log(
          `  round ${round + 1}/${rounds} ${v.key} ${v.name.padEnd(24)} ${Math.round(r.requests.average)} req/s  ${cpuPerRequest.get(v.key)!.at(-1)!.toFixed(1)} µs CPU/req  avg ${r.latency.average.toFixed(2)} ms  p99 ${r.latency.p99} ms  non2xx ${r.non2xx}  errors ${r.errors}`,
        );
      }
    }
    for (const v of VARIANTS) metricsAfter.set(v.key, await metricsSnapshot(servers.get(v.key)!.port));
    // SIGTERM: each server drains, flushes its span queue to the sink, exits 0.
    for (const v of VARIANTS) exitCodes.set(v.key, await stopChild(servers.get(v.key)!.proc));
  } finally {
    for (const v of tracingVariants) {
      const port = servers.get(v.key)?.sinkPort;
      if (port) finalSink.set(v.key, await sinkStats(port).catch(() => ({ requests: NaN, bytes: NaN, spans: NaN, unparsed: NaN })));
    }
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }

  const baseline = runs.get("A")!;
  const baseMedian = median(baseline.map((r) => r.requests.average));
  const baseCpu = median(cpuPerRequest.get("A")!);
  const results: VariantResult[] = VARIANTS.map((v) => {
    const rs = runs.get(v.key)!;
    const rps = median(rs.map((r) => r.requests.average));
    const perRound = medianRatio(
      rs.map((r) => r.requests.average),
      baseline.map((r) => r.requests.average),
    );
    const sink = finalSink.get(v.key);
    const m = metricsAfter.get(v.key);
    return {
      key: v.key,
      variant: v.name,
      metrics: v.metrics,
      tracingSampleRate: v.tracing ? 1 : null,
      perRound: rs.map((r) => ({
        requestsPerSec: r.requests.average,
        latencyAvgMs: r.latency.average,
        latencyP50Ms: r.latency.p50,
        latencyP99Ms: r.latency.p99,
        non2xx: r.non2xx,
        errors: r.errors,
      })),
      medianRequestsPerSec: rps,
      medianLatencyAvgMs: median(rs.map((r) => r.latency.average)),
      medianLatencyP50Ms: median(rs.map((r) => r.latency.p50)),
      medianLatencyP99Ms: median(rs.map((r) => r.latency.p99)),
      non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
      errors: rs.reduce((a, r) => a + r.errors, 0),
      ratioToOff: rps / baseMedian,
      medianPerRoundRatioToOff: perRound,
      overheadPct: (1 - perRound) * 100,
      medianCpuUsPerRequest: median(cpuPerRequest.get(v.key)!),
      cpuOverheadPct: (1 - baseCpu / median(cpuPerRequest.get(v.key)!)) * 100,
      requestsSent: sent.get(v.key)!,
      metricsRequestTotal: v.metrics ? (m?.requestTotal ?? null) : null,
      metricsExposed: m?.exposed ?? false,
      tracingExport: sink
        ? {
            ...sink,
            probeSpans: probeSpans.get(v.key) ?? 0,
            spansPerRequestCreated: SPANS_PER_REQUEST,
            spansExportedPerRequest: sink.spans / sent.get(v.key)!,
            serverExitCode: exitCodes.get(v.key) ?? null,
          }
        : null,
    };
  });
  const by = (k: string) => results.find((r) => r.key === k)!;
  const report = {
    bench: "http-telemetry-overhead",
    issue: 8,
    generatedAt: startedAt,
    machine: machineInfo(),
    service: "echo fixture, POST /echo (JSON in, JSON out, schema-validated), access log off",
    body: BODY,
    connections,
    durationSeconds: durationS,
    rounds,
    loadGenerator: "autocannon (in the parent process); each server in its own process; OTLP sink in its own process",
    results,
    headline: {
      baselineRequestsPerSec: baseMedian,
      metricsOverheadPct: by("B").overheadPct,
      tracingOverheadPct: by("C").overheadPct,
      bothOverheadPct: by("D").overheadPct,
      baselineCpuUsPerRequest: baseCpu,
      metricsCpuOverheadPct: by("B").cpuOverheadPct,
      tracingCpuOverheadPct: by("C").cpuOverheadPct,
      bothCpuOverheadPct: by("D").cpuOverheadPct,
      // Paired within each round (the rounds interleave the variants), so a machine that speeds up or slows
      // down during the run does not bias the ratio the way a ratio of medians does.
      metricsRatioToOff: by("B").medianPerRoundRatioToOff,
      tracingRatioToOff: by("C").medianPerRoundRatioToOff,
      bothRatioToOff: by("D").medianPerRoundRatioToOff,
    },
  };
  writeResults("http-telemetry-overhead", report, renderMarkdown(report, results));
  return report;
}

function renderMarkdown(
  report: { generatedAt: string; machine: ReturnType<typeof machineInfo>; connections: number; durationSeconds: number; rounds: number },
  results: VariantResult[],
): string {
  const m = report.machine;
  const rows = results.map((r) => [
    `${r.key} ${r.variant}`,
    Math.round(r.medianRequestsPerSec),
    fixed(r.ratioToOff, 3),
    fixed(r.medianPerRoundRatioToOff, 3),
    `${fixed(r.overheadPct, 1)} %`,
    fixed(r.medianCpuUsPerRequest, 1),
    `${fixed(r.cpuOverheadPct, 1)} %`,
    fixed(r.medianLatencyAvgMs, 2),
    r.medianLatencyP99Ms,
    r.non2xx + r.errors,
  ]);
  const exportRows = results
    .filter((r) => r.tracingExport)
    .map((r) => {
      const t = r.tracingExport!;
      return [
        `${r.key} ${r.variant}`,
        r.requestsSent,
        t.requests,
        t.spans,
        fixed(t.spansExportedPerRequest, 3),
        t.spansPerRequestCreated,
        t.probeSpans,
        String(t.serverExitCode),
      ];
    });
  const metricRows = results.map((r) => [`${r.key} ${r.variant}`, String(r.metricsExposed), r.requestsSent, r.metricsRequestTotal ?? "–"]);
  return [
    "# HTTP telemetry overhead (issue 8)",
    "",
    machineLine(report.generatedAt, m),
    "",
    `Trivial JSON echo served by bentoc (one process per variant, access log off), autocannon with ${report.connections} connections,`,
    `${report.rounds} interleaved rounds (A B C D …) of ${report.durationSeconds} s; medians per variant. Tracing at sample rate 1.0 exports over`,
    "OTLP/HTTP to a real receiver in its own process.",
    "",
    mdTable(
      [
        "variant",
        "req/s (median)",
        "ratio to A",
        "median per-round ratio",
        "throughput lost",
        "server CPU µs / request",
        "lost, from CPU",
        "mean latency ms",
        "p99 ms",
        "non-2xx + errors",
      ],
      rows,
    ),
    "",
    '"Throughput lost" is 1 − the median per-round req/s ratio to A. "Server CPU µs / request" is the server process\'s user + system',
    'CPU time over a round divided by the requests it served (median over rounds); "lost, from CPU" is 1 − cpu(A) / cpu(variant),',
    "the loss a CPU-bound server would see on cores of its own. On a shared 2-core machine (autocannon, the OTLP sink and other",
    "work compete with the server) req/s swings with the neighbours; CPU per request barely does.",
    "",
    "## Spans exported",
    "",
    "Each request creates 2 spans (HTTP request, API handler). The export queue drops spans when it is full (8192) instead of",
    "slowing requests; clearly fewer than 2 exported per request means it dropped the rest. Counts include warm-up and probe requests and",
    'the final flush on SIGTERM. "Requests served" are the responses autocannon counted; each load run also leaves up to one request per',
    "connection in flight when it stops, which the server still answers and traces, so spans / request can read slightly above 2.",
    "",
    mdTable(
      ["variant", "requests served", "OTLP POSTs", "spans received", "spans / request", "spans created / request", "probe spans", "server exit"],
      exportRows,
    ),
    "",
    "## Metrics recorded",
    "",
    mdTable(["variant", "/metrics has bentoc series", "requests served", "sum(bentoc_api_server_request_total)"], metricRows),
    "",
    ...whereItGoes(),
  ].join("\n");
}

/** The hand-written profile analysis (bench/http-telemetry-where-it-goes.md), appended to every report. */
function whereItGoes(): string[] {
  const file = fileURLToPath(new URL("./http-telemetry-where-it-goes.md", import.meta.url));
  return existsSync(file) ? [readFileSync(file, "utf8").trimEnd(), ""] : [];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf("--child");
  if (ci >= 0) {
    const kind = args[ci + 1];
    if (kind === "sink") return childSink(Number(args[ci + 2] ?? 1));
    return childServer();
  }
  const num = (flag: string, d: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const prof = args.indexOf("--cpu-prof-dir");
  const report = await runHttpTelemetryOverheadBench({
    durationS: num("--duration", 5),
    rounds: num("--rounds", 5),
    connections: num("--connections", 64),
    ...(prof >= 0 ? { cpuProfDir: args[prof + 1]! } : {}),
  });
  console.log(JSON.stringify(report["headline"], null, 2));
}

if (isMain(import.meta.url)) await main();
