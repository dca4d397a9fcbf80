/**
 * Instructions per request: the echo servers of server-overhead.ts run under valgrind's callgrind, which
 * counts the instructions the server's main thread executes while it serves a fixed number of requests.
 * Unlike req/s and CPU time, that count hardly moves with the load of a shared machine, so the ratio of two
 * servers' counts is the steadiest figure there is of what bentoc adds to a request. It leaves out what does not run on the main thread (V8's
 * concurrent compiler and marker, the kernel): those stay in server-overhead's req/s and CPU figures.
 *
 * Instrumentation is switched on only after a warm-up (`callgrind_control -i on`), so start-up, loading
 * and the first JIT tiers are not counted. Needs valgrind (Debian: `apt-get install valgrind`).
 *
 *   npx tsx bench/request-instructions.ts [--warm 30000] [--requests 10000]
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEchoRequests } from "./echo-load.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, writeResults } from "./results-io.ts";
import { ensureNewerNode, NEWER_NODE, NEWER_NODE_BIN, SERVER_LABELS, serverStarted } from "./server-overhead.ts";

const SERVER_OVERHEAD = fileURLToPath(new URL("./server-overhead.ts", import.meta.url));

/** The servers counted: bare node:http and bentoc on node:http, under this Node and under the newer one. */
const KINDS = ["node", "bentoc-node", "node@24", "bentoc-node@24"] as const;

function requireTool(name: string): void {
  if (spawnSync("which", [name]).status !== 0)
    throw new Error(`${name} is not installed (Debian: apt-get install valgrind); this bench counts instructions with it`);
}

/** Starts a server of server-overhead.ts under callgrind, instrumentation off; resolves with its port. */
function startUnderCallgrind(kind: string, echoDir: string, outFile: string): Promise<{ proc: ChildProcess; port: number }> {
  const [server, under] = kind.split("@");
  const node = under ? NEWER_NODE_BIN : process.execPath;
  const args = [
    "--tool=callgrind",
    "--instr-atstart=no",
    "--separate-threads=yes",
    "--dump-instr=no",
    "--smc-check=all-non-file",
    `--callgrind-out-file=${outFile}`,
    node,
    "--import",
    "tsx",
    SERVER_OVERHEAD,
    "--child",
    server ?? kind,
  ];
  const proc = spawn("valgrind", args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, BENCH_ECHO_DIR: echoDir } });
  let errText = "";
  proc.stderr!.on("data", (d: Buffer) => {
    errText = (errText + d.toString()).slice(-4000);
  });
  return serverStarted(proc, (code) => new Error(`${kind} under callgrind exited ${code}: ${errText.trim().split("\n").slice(-5).join(" | ")}`));
}

/**
 * Ends a server under valgrind with SIGTERM, so valgrind removes the FIFOs its gdbserver (which
 * callgrind_control talks to) made in the temp dir; SIGKILL after 10 s, and then those FIFOs are removed here.
 */
async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
  const pid = String(proc.pid);
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith("vgdb-pipe-") && name.includes(`-${pid}-`)) rmSync(join(tmpdir(), name), { force: true });
  }
}

function callgrindControl(pid: number, ...args: string[]): void {
  const r = spawnSync("callgrind_control", [...args, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(" ")} ${pid} failed: ${r.stderr || r.stdout}`);
}

/** The main thread's instruction count in the first dump (`<out>.1-01`: dump 1, thread 1). */
async function mainThreadInstructions(outFile: string): Promise<number> {
  const file = `${outFile}.1-01`;
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  const totals = /^totals:\s+(\d+)/m.exec(readFileSync(file, "utf8"));
  if (!totals) throw new Error(`no totals in ${file}`);
  return Number(totals[1]);
}

export interface RequestInstructionsOptions {
  warmRequests?: number;
  requests?: number;
  log?: (line: string) => void;
}

export async function runRequestInstructionsBench(options: RequestInstructionsOptions = {}): Promise<Record<string, unknown>> {
  const warm = options.warmRequests ?? 30_000;
  const requests = options.requests ?? 10_000;
  const connections = 16;
  const log = options.log ?? ((l: string) => console.log(l));
  requireTool("valgrind");
  requireTool("callgrind_control");
  ensureNewerNode();
  const generatedAt = new Date().toISOString();
  const { buildEchoDir } = await import("../test/fixtures/runtime/build-echo.ts");
  const echoDir = await buildEchoDir();
  const work = mkdtempSync(join(tmpdir(), "bentoc-callgrind-"));
  const perRequest: Record<string, number> = {};
  try {
    for (const kind of KINDS) {
      const outFile = join(work, `${kind.replace("@", "-")}.callgrind`);
      const { proc, port } = await startUnderCallgrind(kind, echoDir, outFile);
      try {
        const w = await loadEchoRequests(port, warm, connections);
        if (w.errors > 0 || w.non2xx > 0) throw new Error(`${kind}: warm-up had ${w.errors} errors, ${w.non2xx} non-2xx`);
        callgrindControl(proc.pid!, "-i", "on");
        const r = await loadEchoRequests(port, requests, connections);
        callgrindControl(proc.pid!, "-i", "off");
        callgrindControl(proc.pid!, "-d");
        if (r.errors > 0 || r.non2xx > 0) throw new Error(`${kind}: ${r.errors} errors, ${r.non2xx} non-2xx while counted`);
        perRequest[kind] = (await mainThreadInstructions(outFile)) / r.requests.total;
        log(`  ${kind.padEnd(15)} ${Math.round(perRequest[kind]!)} instructions per request (main thread)  load ${machineInfo().loadAverage1m}`);
      } finally {
        await stop(proc);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(echoDir, { recursive: true, force: true });
  }
  // bare ÷ bentoc: above 1 when bentoc executes fewer instructions per request than the bare handler.
  const ratio = (bare: string, bentoc: string): number => (perRequest[bare] ?? NaN) / (perRequest[bentoc] ?? NaN);
  const machine = machineInfo();
  const report = {
    bench: "request-instructions",
    issue: 13,
    generatedAt,
    machine,
    node: process.version,
    newerNode: NEWER_NODE,
    warmRequests: warm,
    requests,
    connections,
    instructionsPerRequest: perRequest,
    ratios: {
      bareNodeHttpVsNodeBackend: ratio("node", "bentoc-node"),
      bareNodeHttpVsNodeBackendOnNode24: ratio("node@24", "bentoc-node@24"),
    },
  };
  const label = SERVER_LABELS;
  const md = [
    "# Instructions per request (issue 13)",
    "",
    machineLine(generatedAt, machine),
    "",
    `The echo servers of server-overhead.md under valgrind's callgrind: instructions the server's main thread executes per request, counted over`,
    `${requests} requests (${connections} connections) after ${warm} uncounted ones. The count hardly moves with the machine's load; V8's`,
    "background compiler and marker and the kernel are not in it (they are in server-overhead's CPU figures).",
    `Servers run under ${process.version} unless marked Node ${NEWER_NODE}.`,
    "",
    mdTable(
      ["server", "instructions per request"],
      KINDS.map((k) => [label[k] ?? k, Math.round(perRequest[k] ?? NaN)]),
    ),
    "",
    mdTable(
      ["ratio (bare ÷ bentoc: above 1 when bentoc executes fewer)", "measured"],
      [
        ["bare node:http / bentoc on node:http", fixed(report.ratios.bareNodeHttpVsNodeBackend, 3)],
        [`bare node:http / bentoc on node:http, Node ${NEWER_NODE}`, fixed(report.ratios.bareNodeHttpVsNodeBackendOnNode24, 3)],
      ],
    ),
    "",
  ].join("\n");
  writeResults("request-instructions", report, md);
  return report;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const num = (flag: string, d: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const report = await runRequestInstructionsBench({ warmRequests: num("--warm", 30_000), requests: num("--requests", 10_000) });
  process.stdout.write(`${JSON.stringify(report["ratios"], null, 2)}\n`);
}

if (isMain(import.meta.url)) await main();
