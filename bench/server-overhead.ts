/**
 * Server overhead: a trivial JSON echo API through bentoc on each HTTP backend vs a bare handler doing the
 * same work (read body, JSON.parse, check, JSON.stringify) on that backend's library: bentoc on uWS vs bare
 * uWS, bentoc on node:http vs bare node:http. Each server runs in its own process; autocannon (64
 * connections) drives all of them in one run. Writes bench/results/server-overhead.{json,md}.
 *
 * The node:http pair runs twice: under this Node (20, where uWS is the default and node:http is forced) and
 * under Node 24 (`@24` kinds; scripts/install-test-nodes.sh installs it), where no uWS build loads and
 * node:http is what every bentoc server runs on.
 *
 * The kinds are measured in interleaved rounds and the median per kind is kept, so a noisy neighbour
 * hurts all three alike.
 *
 *   npx tsx bench/server-overhead.ts [--duration 5] [--rounds 3] [--connections 64]
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ECHO_BODY as BODY, type LoadResult, loadEcho as load, loadEchoRequests } from "./echo-load.ts";
import { profileOnCommand, timePerRequest } from "./request-profile.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, medianRatio, writeResults } from "./results-io.ts";

const SELF = fileURLToPath(import.meta.url);
/** The newer Node the `@24` kinds run under: the Node 24 of scripts/test-nodes.txt, which the tests use too. */
export const NEWER_NODE = (() => {
  const listed = readFileSync(fileURLToPath(new URL("../scripts/test-nodes.txt", import.meta.url)), "utf8").split("\n");
  const v = listed.map((l) => l.trim()).find((l) => l.startsWith("24."));
  if (!v) throw new Error("scripts/test-nodes.txt names no Node 24");
  return v;
})();
export const NEWER_NODE_BIN = fileURLToPath(new URL(`../.cache/nodes/${NEWER_NODE}/bin/node`, import.meta.url));

/** How the result tables name each kind of server. */
export const SERVER_LABELS: Readonly<Record<string, string>> = {
  uws: "bare uWS handler",
  "bentoc-uws": "bentoc on uWS (access log off)",
  "bentoc-uws-log": "bentoc on uWS (access log on)",
  node: "bare node:http handler",
  "bentoc-node": "bentoc on node:http (access log off)",
  "bentoc-node-log": "bentoc on node:http (access log on)",
  "node@24": `bare node:http handler, Node ${NEWER_NODE}`,
  "bentoc-node@24": `bentoc on node:http (access log off), Node ${NEWER_NODE}`,
};

/** Installs the newer Node when it is missing (npm registry, .cache/nodes/; idempotent). */
export function ensureNewerNode(): void {
  if (existsSync(NEWER_NODE_BIN)) return;
  const r = spawnSync("bash", [fileURLToPath(new URL("../scripts/install-test-nodes.sh", import.meta.url))], { stdio: "inherit" });
  if (r.status !== 0 || !existsSync(NEWER_NODE_BIN)) throw new Error(`Node ${NEWER_NODE} is needed at ${NEWER_NODE_BIN} (bash scripts/install-test-nodes.sh)`);
}

function echoWork(text: string): string {
  const v = JSON.parse(text) as { value?: unknown };
  if (typeof v !== "object" || v === null || !("value" in v)) throw new Error("bad");
  return JSON.stringify(v);
}

async function serveBareUws(): Promise<number> {
  const { default: uws } = await import("uWebSockets.js");
  return new Promise((resolve) => {
    uws
      .App()
      .post("/echo", (res, req) => {
        void req;
        let aborted = false;
        let chunks: Buffer[] = [];
        res.onAborted(() => (aborted = true));
        res.onData((ab, last) => {
          chunks.push(Buffer.from(new Uint8Array(ab)));
          if (!last || aborted) return;
          const out = echoWork(Buffer.concat(chunks).toString());
          chunks = [];
          res.cork(() => res.writeStatus("200 OK").writeHeader("content-type", "application/json").end(out));
        });
      })
      .listen("127.0.0.1", 0, (s) => resolve(s ? uws.us_socket_local_port(s) : -1));
  });
}

async function serveNodeHttp(): Promise<number> {
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const out = echoWork(Buffer.concat(chunks).toString());
      res.writeHead(200, { "content-type": "application/json" }).end(out);
    });
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve((srv.address() as { port: number }).port)));
}

/** bentoc as users run it: the built runtime in dist/ (`npm run bench` builds it first), not the sources under tsx. */
async function serveBentoc(http: "uws" | "node", accessLog: boolean): Promise<number> {
  const dist = new URL("../dist/runtime/", import.meta.url).href;
  const { defaultConfig } = (await import(`${dist}config/config-defaults.js`)) as typeof import("../runtime/config/config-defaults.ts");
  const { serveCompiledDir } = (await import(`${dist}serve-compiled.js`)) as typeof import("../runtime/serve-compiled.ts");
  const { createLogger } = (await import(`${dist}logging/logger.js`)) as typeof import("../runtime/logging/logger.ts");
  const dir = process.env["BENCH_ECHO_DIR"];
  if (!dir) throw new Error("BENCH_ECHO_DIR is not set (the parent builds the compiled echo service)");
  const config = defaultConfig();
  config.server = { ...config.server, http, host: "127.0.0.1", port: 0, accessLog };
  config.logging = { level: "error" };
  const logger = createLogger({ level: "info", write: () => {} }); // access-log cost without terminal cost
  const served = await serveCompiledDir(dir, config, { print: () => {}, logger });
  return served.port;
}

async function child(kind: string): Promise<void> {
  // Bare servers exit on SIGINT too, so a profiler (--cpu-prof) can write its file.
  if (kind === "uws" || kind === "node") process.once("SIGINT", () => process.exit(0));
  profileOnCommand();
  const port =
    kind === "uws"
      ? await serveBareUws()
      : kind === "node"
        ? await serveNodeHttp()
        : await serveBentoc(kind.includes("node") ? "node" : "uws", kind.endsWith("-log"));
  process.stdout.write(`PORT ${port}\n`);
}

/** A kind's server process: `node@24` is the `node` server under the newer Node. */
function start(kind: string, echoDir: string): Promise<{ proc: ChildProcess; port: number }> {
  const [server, under] = kind.split("@");
  const proc = spawn(under ? NEWER_NODE_BIN : process.execPath, ["--import", "tsx", SELF, "--child", server ?? kind], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, BENCH_ECHO_DIR: echoDir },
  });
  return serverStarted(proc, (code) => new Error(`${kind} exited ${code}`));
}

/** The port a server child prints (`PORT <n>`); rejects with `failed(exit code)` if it exits first. */
export function serverStarted(proc: ChildProcess, failed: (code: number | null) => Error): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    let buf = "";
    proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /PORT (\d+)/.exec(buf);
      if (m) resolve({ proc, port: Number(m[1]) });
    });
    proc.on("exit", (code) => reject(failed(code)));
  });
}

/** The servers whose request path is profiled after the rounds, and how many requests each profile covers. */
const PROFILED = ["uws", "bentoc-uws", "node", "bentoc-node", "node@24", "bentoc-node@24"];
const PROFILE_REQUESTS = 40_000;

function nextLine(proc: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      if (!d.toString().includes(text)) return;
      proc.stdout!.off("data", onData);
      resolve();
    };
    proc.stdout!.on("data", onData);
  });
}

/** A CPU profile of the server while it serves `requests` echo requests, grouped (request-profile.ts). */
async function profileRequests(
  proc: ChildProcess,
  port: number,
  requests: number,
  connections: number,
  file: string,
): Promise<Array<{ place: string; us: number }>> {
  const started = nextLine(proc, "PROFILING");
  proc.stdin!.write("start\n");
  await started;
  const r = await loadEchoRequests(port, requests, connections);
  const written = nextLine(proc, "PROFILED");
  proc.stdin!.write(`stop ${file}\n`);
  await written;
  return timePerRequest(JSON.parse(readFileSync(file, "utf8")), r.requests.total);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

export interface ServerOverheadOptions {
  durationS?: number;
  rounds?: number;
  connections?: number;
  log?: (line: string) => void;
}

type KindResult = { requestsPerSec: number; latencyP50Ms: number; latencyP99Ms: number; non2xx: number; errors: number; serverCpuUsPerRequest: number };

export async function runServerOverheadBench(options: ServerOverheadOptions = {}): Promise<Record<string, unknown>> {
  const duration = options.durationS ?? 5;
  const rounds = options.rounds ?? 5;
  const connections = options.connections ?? 64;
  const log = options.log ?? ((l: string) => console.log(l));
  const generatedAt = new Date().toISOString();
  const kinds = ["uws", "bentoc-uws", "bentoc-uws-log", "node", "bentoc-node", "bentoc-node-log", "node@24", "bentoc-node@24"];
  ensureNewerNode();
  const results: Record<string, KindResult> = {};
  const servers = new Map<string, { proc: ChildProcess; port: number }>();
  const runs = new Map<string, LoadResult[]>();
  // The server's own CPU time per request in each round: what it costs, whatever the load generator
  // (which shares the machine) left it.
  const cpuPerRequest = new Map<string, number[]>();
  const profiles: Record<string, Array<{ place: string; us: number }>> = {};
  const { buildEchoDir } = await import("../test/fixtures/runtime/build-echo.ts");
  const echoDir = await buildEchoDir();
  try {
    for (const kind of kinds) {
      const s = await start(kind, echoDir);
      servers.set(kind, s);
      await load(s.port, Math.min(2, duration), connections); // warm-up (JIT, connection setup)
    }
    for (let round = 0; round < rounds; round++) {
      for (const kind of kinds) {
        const server = servers.get(kind)!;
        const cpuBefore = cpuSeconds(server.proc.pid!);
        const r = await load(server.port, duration, connections);
        const cpuUs = ((cpuSeconds(server.proc.pid!) - cpuBefore) * 1e6) / Math.max(1, r.requests.total);
        runs.set(kind, [...(runs.get(kind) ?? []), r]);
        cpuPerRequest.set(kind, [...(cpuPerRequest.get(kind) ?? []), cpuUs]);
        log(
          `  round ${round + 1}/${rounds} ${kind.padEnd(15)} ${Math.round(r.requests.average)} req/s  server CPU ${cpuUs.toFixed(1)} µs/req  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  non2xx ${r.non2xx}  load ${machineInfo().loadAverage1m}`,
        );
      }
    }
    for (const kind of PROFILED) {
      const server = servers.get(kind)!;
      profiles[kind] = await profileRequests(server.proc, server.port, PROFILE_REQUESTS, connections, join(echoDir, `${kind}.cpuprofile`));
      log(
        `  profile ${kind.padEnd(15)} ${PROFILE_REQUESTS} requests: ${profiles[kind]!.reduce((t, p) => t + p.us, 0).toFixed(1)} µs/req sampled  load ${machineInfo().loadAverage1m}`,
      );
    }
  } finally {
    for (const s of servers.values()) s.proc.kill("SIGKILL");
    rmSync(echoDir, { recursive: true, force: true });
  }
  for (const kind of kinds) {
    const rs = [...(runs.get(kind) ?? [])].sort((a, b) => a.requests.average - b.requests.average);
    const r = rs[Math.floor(rs.length / 2)]!;
    const cpu = [...(cpuPerRequest.get(kind) ?? [])].sort((a, b) => a - b);
    results[kind] = {
      requestsPerSec: r.requests.average,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      non2xx: r.non2xx,
      errors: r.errors,
      serverCpuUsPerRequest: cpu[Math.floor(cpu.length / 2)] ?? NaN,
    };
  }
  // Each ratio is the median of per-round ratios: rounds interleave the servers, so pairing within a round
  // cancels the drift of a shared machine that a ratio of medians would keep.
  const rps = (k: string): number => results[k]?.requestsPerSec ?? NaN;
  const perSecond = (k: string): number[] => (runs.get(k) ?? []).map((r) => r.requests.average);
  const perRound = (a: string, b: string): number => medianRatio(perSecond(a), perSecond(b));
  const machine = machineInfo();
  const report = {
    bench: "server-overhead",
    issue: 13,
    generatedAt,
    machine,
    connections,
    durationSeconds: duration,
    rounds,
    cpus: machine.cpus,
    body: BODY,
    node: process.version,
    results,
    perRoundRequestsPerSec: Object.fromEntries(kinds.map((k) => [k, perSecond(k)])),
    ratios: {
      uwsBackendVsBareUws: perRound("bentoc-uws", "uws"),
      uwsBackendWithAccessLogVsBareUws: perRound("bentoc-uws-log", "uws"),
      nodeBackendVsBareNodeHttp: perRound("bentoc-node", "node"),
      nodeBackendVsBareNodeHttpOnNode24: perRound("bentoc-node@24", "node@24"),
      nodeBackendWithAccessLogVsBareNodeHttp: perRound("bentoc-node-log", "node"),
      uwsBackendVsNodeBackend: perRound("bentoc-uws", "bentoc-node"),
    },
    ratiosOfMedians: {
      uwsBackendVsBareUws: rps("bentoc-uws") / rps("uws"),
      nodeBackendVsBareNodeHttp: rps("bentoc-node") / rps("node"),
      nodeBackendVsBareNodeHttpOnNode24: rps("bentoc-node@24") / rps("node@24"),
    },
    // The same comparison by the servers' own CPU time per request (bare ÷ bentoc, median of rounds): what
    // the throughput ratio would be if the server alone used the machine.
    cpuRatios: {
      uwsBackendVsBareUws: (results["uws"]?.serverCpuUsPerRequest ?? NaN) / (results["bentoc-uws"]?.serverCpuUsPerRequest ?? NaN),
      nodeBackendVsBareNodeHttp: (results["node"]?.serverCpuUsPerRequest ?? NaN) / (results["bentoc-node"]?.serverCpuUsPerRequest ?? NaN),
      nodeBackendVsBareNodeHttpOnNode24: (results["node@24"]?.serverCpuUsPerRequest ?? NaN) / (results["bentoc-node@24"]?.serverCpuUsPerRequest ?? NaN),
    },
    targets: { uwsBackendVsBareUws: ">= 0.90", nodeBackendVsBareNodeHttp: ">= 0.95", nodeBackendVsBareNodeHttpOnNode24: ">= 0.95" },
    newerNode: NEWER_NODE,
    /** Sampled self time per request by where the code lives (request-profile.ts), after the rounds. */
    requestProfiles: { requests: PROFILE_REQUESTS, loadAverage1m: machineInfo().loadAverage1m, byServer: profiles },
  };
  const label = SERVER_LABELS;
  const md = [
    "# Server overhead (issue 13)",
    "",
    machineLine(generatedAt, machine),
    "",
    `Trivial JSON echo (read body, JSON.parse, check, JSON.stringify), each server in its own process, autocannon with ${connections}`,
    `connections, ${rounds} interleaved rounds of ${duration} s; the median round per server is kept, and each ratio is the median of the per-round ratios.`,
    `Servers run under ${process.version} unless marked Node ${NEWER_NODE}: there no uWS build loads and node:http is every bentoc server's backend.`,
    "",
    mdTable(
      ["server", "req/s", "server CPU µs/req", "p50 ms", "p99 ms", "non-2xx", "errors", "req/s per round"],
      kinds.map((k) => {
        const r = results[k]!;
        return [
          label[k] ?? k,
          Math.round(r.requestsPerSec),
          fixed(r.serverCpuUsPerRequest, 1),
          r.latencyP50Ms,
          r.latencyP99Ms,
          r.non2xx,
          r.errors,
          (runs.get(k) ?? []).map((x) => Math.round(x.requests.average)).join(", "),
        ];
      }),
    ),
    "",
    mdTable(
      ["ratio", "measured", "target"],
      [
        ["bentoc on uWS / bare uWS", fixed(report.ratios.uwsBackendVsBareUws, 3), "≥ 0.90"],
        ["bentoc on node:http / bare node:http", fixed(report.ratios.nodeBackendVsBareNodeHttp, 3), "≥ 0.95"],
        [`bentoc on node:http / bare node:http, Node ${NEWER_NODE}`, fixed(report.ratios.nodeBackendVsBareNodeHttpOnNode24, 3), "≥ 0.95"],
        ["by server CPU per request: bare uWS / bentoc on uWS", fixed(report.cpuRatios.uwsBackendVsBareUws, 3), "–"],
        ["by server CPU per request: bare node:http / bentoc on node:http", fixed(report.cpuRatios.nodeBackendVsBareNodeHttp, 3), "–"],
        [
          `by server CPU per request: bare node:http / bentoc on node:http, Node ${NEWER_NODE}`,
          fixed(report.cpuRatios.nodeBackendVsBareNodeHttpOnNode24, 3),
          "–",
        ],
        ["bentoc on uWS with access log / bare uWS", fixed(report.ratios.uwsBackendWithAccessLogVsBareUws, 3), "–"],
        ["bentoc on node:http with access log / bare node:http", fixed(report.ratios.nodeBackendWithAccessLogVsBareNodeHttp, 3), "–"],
        ["bentoc on uWS / bentoc on node:http", fixed(report.ratios.uwsBackendVsNodeBackend, 3), "–"],
      ],
    ),
    "",
    ...whereTheTimeGoes(profiles, label),
  ].join("\n");
  writeResults("server-overhead", report, md);
  return report;
}

/** The profiles side by side: µs per request in each group, and what bentoc adds on each backend. */
function whereTheTimeGoes(profiles: Record<string, Array<{ place: string; us: number }>>, label: Record<string, string>): string[] {
  const us = (kind: string, place: string): number => profiles[kind]?.find((p) => p.place === place)?.us ?? 0;
  const places = [...new Set(PROFILED.flatMap((k) => (profiles[k] ?? []).map((p) => p.place)))];
  places.sort((a, b) => us("bentoc-node", b) + us("bentoc-uws", b) - (us("bentoc-node", a) + us("bentoc-uws", a)));
  const total = (kind: string): number => (profiles[kind] ?? []).reduce((t, p) => t + p.us, 0);
  return [
    "## Where the time goes",
    "",
    `A CPU profile of each server while it serves ${PROFILE_REQUESTS} more requests (V8's sampler, 200 µs, started and stopped around`,
    "the load, so start-up is not in it): self time grouped by where the running code lives, in µs per request. The sampler counts",
    "wall time, so on a loaded machine waiting lands on the last thing run (often a syscall): compare the groups, not the totals",
    "with the CPU figures above.",
    "",
    mdTable(
      ["where", ...PROFILED.map((k) => label[k] ?? k), "bentoc adds on uWS", "bentoc adds on node:http", `bentoc adds on node:http, Node ${NEWER_NODE}`],
      [...places, "total"].map((place) => {
        const get = place === "total" ? total : (k: string) => us(k, place);
        return [
          place,
          ...PROFILED.map((k) => fixed(get(k), 2)),
          fixed(get("bentoc-uws") - get("uws"), 2),
          fixed(get("bentoc-node") - get("node"), 2),
          fixed(get("bentoc-node@24") - get("node@24"), 2),
        ];
      }),
    ),
    "",
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf("--child");
  if (ci >= 0) return child(args[ci + 1] ?? "");
  const num = (flag: string, d: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const report = await runServerOverheadBench({ durationS: num("--duration", 5), rounds: num("--rounds", 3), connections: num("--connections", 64) });
  process.stdout.write(`${JSON.stringify(report["ratios"], null, 2)}\n`);
}

if (isMain(import.meta.url)) await main();
