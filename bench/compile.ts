/**
 * Compile benchmark (issue 3): the cold `bentoc compile` of the support-tickets sample as a whole process,
 * and the `--watch` recompile time after a one-line edit. Writes bench/results/compile.{json,md}.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fixed, isMain, machineInfo, mdTable, median, writeResults } from "./results-io.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = join(root, "bin/bentoc.mjs");

function coldCompile(runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(root, "bench/.tmp/cold-out");
    rmSync(out, { recursive: true, force: true });
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, "compile", join(root, "samples/support-tickets"), "--out", out], { encoding: "utf8" });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`compile failed: ${r.stderr}${r.stdout}`);
    times.push(ms);
  }
  return times;
}

async function watchRecompile(edits: number): Promise<{ reportedMs: number[]; wallMs: number[] }> {
  const dir = join(root, "bench/.tmp/watch-sample");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, "samples/support-tickets"), dir, { recursive: true, filter: (p) => !p.includes(".bentoc") });
  const file = join(dir, "service.ts");
  const original = readFileSync(file, "utf8");
  const child = spawn(process.execPath, [bin, "compile", dir, "--out", join(dir, ".bentoc"), "--watch"], { stdio: ["ignore", "pipe", "pipe"] });
  let buffer = "";
  const waiters: Array<(line: string) => void> = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (/compiled|error/i.test(line)) waiters.shift()?.(line);
    }
  });
  const nextSummary = () => new Promise<string>((resolve) => waiters.push(resolve));
  await nextSummary(); // initial compile
  const reportedMs: number[] = [];
  const wallMs: number[] = [];
  for (let i = 0; i < edits; i++) {
    const t0 = performance.now();
    const next = nextSummary();
    writeFileSync(file, original.replace("Routes support tickets to the right team.", `Routes support tickets to the right team (edit ${i}).`));
    const line = await next;
    wallMs.push(performance.now() - t0);
    const m = /in (\d+(?:\.\d+)?) ?ms/.exec(line);
    if (m) reportedMs.push(Number(m[1]));
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill("SIGTERM");
  return { reportedMs, wallMs };
}

export interface CompileBenchOptions {
  /** Cold compiles measured (after one unmeasured one); default 5. */
  coldRuns?: number;
  /** One-line edits under --watch; default 5. */
  watchEdits?: number;
}

export async function runCompileBench(options: CompileBenchOptions = {}): Promise<Record<string, unknown>> {
  const generatedAt = new Date().toISOString();
  mkdirSync(join(root, "bench/.tmp"), { recursive: true });
  coldCompile(1); // warm the OS file cache and tsx's transform cache: "cold" means a new process
  const cold = coldCompile(options.coldRuns ?? 5);
  const watch = await watchRecompile(options.watchEdits ?? 5);
  const machine = machineInfo();
  const result = {
    bench: "compile",
    issue: 3,
    generatedAt,
    machine,
    coldCompileMs: { runs: cold.map(Math.round), median: Math.round(median(cold)), target: 1500 },
    watchRecompileMs: {
      reported: watch.reportedMs,
      wallFromEditToSummary: watch.wallMs.map(Math.round),
      medianReported: median(watch.reportedMs),
      medianWall: Math.round(median(watch.wallMs)),
      target: 300,
    },
  };
  const md = [
    "# Compile benchmark (issue 3)",
    "",
    `${generatedAt} · ${machine.cpus} × ${machine.cpuModel} · node ${machine.node} · load average at the end ${machine.loadAverage1m}`,
    "",
    "support-tickets sample. Cold: `bentoc compile` as a whole new process (after one unmeasured run that warms the OS file cache).",
    "Watch: `bentoc compile --watch`, a one-line edit of service.ts, the time the compiler reports in its summary line and the wall time",
    "from the write to that line (includes the file watcher's delay).",
    "",
    mdTable(
      ["measure", "median", "runs", "target"],
      [
        ["cold compile (ms)", result.coldCompileMs.median, result.coldCompileMs.runs.join(", "), "≤ 1500"],
        ["watch recompile, reported (ms)", fixed(result.watchRecompileMs.medianReported, 0), watch.reportedMs.join(", "), "≤ 300"],
        ["watch recompile, edit → summary wall (ms)", result.watchRecompileMs.medianWall, result.watchRecompileMs.wallFromEditToSummary.join(", "), "–"],
      ],
    ),
    "",
  ].join("\n");
  writeResults("compile", result, md);
  return result;
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await runCompileBench(), null, 2));
}
