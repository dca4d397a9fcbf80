/**
 * Serve footprint (issue 16): `bentoc serve <compiled dir>` of the tabular sample (tiny MLP), from spawning
 * the built CLI to the first 200 from /readyz, and the server's memory, before and after the start-up work,
 * in one run on one machine. "Before" is a git ref (default 6b3e108, the last commit before it), checked out
 * into a temporary worktree (with its own dependencies, `npm ci` from its lock) and built with its own
 * scripts/build.mjs; "after" is this checkout's dist/ (built first). Each version compiles the sample
 * itself; runs interleave (before, after, before, …) so a drifting machine favours neither.
 *
 *   ready     ms from spawn to the first /readyz 200 (polled every 5 ms), and the server's CPU time
 *             (user + system, /proc/<pid>/stat) at that moment: on a shared machine wall time carries
 *             the other processes' load, CPU time much less
 *   RSS       VmRSS of the server right after ready, and after 50 /predict requests
 *   answers   the /predict body of each version, which must be identical
 *
 * Then, for "after", where the rest goes: one start-up under `--cpu-prof` (CPU time by package or file,
 * inclusive, up to ready), and one process that loads, step by step, what the server loads (onnxruntime,
 * the tabular model's session, the runtime's modules), printing RSS and heap after each step.
 * Writes bench/results/serve-footprint.{json,md}, with the load average beside each run.
 *
 *   npx tsx bench/serve-footprint.ts [--before <ref>] [--runs 7]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareModels } from "../scripts/models/prepare.ts";
import { freePort } from "../test/helpers/prometheus.ts";
import { userEnv } from "../test/helpers/user-project.ts";
import { addRefWorktree, installNodeModules, removeRefWorktree } from "./ref-worktree.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, median, writeResults } from "./results-io.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SERVE_FOOTPRINT_BEFORE = "6b3e108";
export const SERVE_READY_TARGET_MS = 300;
export const SERVE_RSS_TARGET_MB = 100;

export interface ServeFootprintOptions {
  before?: string;
  /** Serve runs per version (default 7). */
  runs?: number;
  log?: (line: string) => void;
}

interface Run {
  readyMs: number;
  cpuMs: number;
  rssReadyMiB: number;
  rssMiB: number;
  load1m: number;
}

interface Version {
  label: "before" | "after";
  ref: string;
  dir: string;
  outDir: string;
  runs: Run[];
  answer: string;
}

const PREDICT_BODY = JSON.stringify({ dtype: "float32", shape: [2, 8], data: [1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1] });
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN);
}

/** user + system CPU time of a process, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

const load1m = () => Number((loadavg()[0] ?? 0).toFixed(2));

function serveArgs(v: Version, port: number): string[] {
  return [join(v.dir, "dist/cli/bentoc.js"), "serve", v.outDir, "--port", String(port), "--host", "127.0.0.1"];
}

/** Spawns the server, waits for /readyz, then `then(url, pid)`; always stops it. */
async function withServer<T>(
  v: Version,
  home: string,
  nodeArgs: string[],
  then: (url: string, pid: number, readyMs: number, cpu: number) => Promise<T>,
): Promise<T> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, ...serveArgs(v, port)], {
    cwd: v.dir,
    env: userEnv({ BENTOC_HOME: home, BENTOC_LOG_LEVEL: "warn" }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
  try {
    while (performance.now() - t0 < 60_000) {
      if (child.exitCode !== null) throw new Error(`${v.label}: server exited ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        const readyMs = performance.now() - t0;
        return await then(url, child.pid!, readyMs, cpuMs(child.pid!));
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`${v.label}: not ready after 60 s: ${stderr}`);
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }
}

async function serveOnce(v: Version, home: string): Promise<Run> {
  return withServer(v, home, [], async (url, pid, readyMs, cpu) => {
    const rssReadyMiB = procStatus(pid, "VmRSS") / 1024;
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${url}/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: PREDICT_BODY });
      const text = await r.text();
      if (!r.ok) throw new Error(`${v.label}: /predict answered ${r.status}: ${text}`);
      v.answer = text;
    }
    return { readyMs, cpuMs: cpu, rssReadyMiB, rssMiB: procStatus(pid, "VmRSS") / 1024, load1m: load1m() };
  });
}

interface ProfileRow {
  what: string;
  ms: number;
}

/** CPU time by file or package (inclusive: a package counts once per sample however deep it is), idle left out. */
function profileByModule(profileFile: string): { totalMs: number; rows: ProfileRow[] } {
  const p = JSON.parse(readFileSync(profileFile, "utf8")) as {
    nodes: { id: number; callFrame: { url: string; functionName: string }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id: number): string => {
    const f = byId.get(id)!.callFrame;
    if (!f.url) return `(${f.functionName || "anonymous"})`;
    const u = f.url.replace(/^file:\/\//, "");
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (pkg) return `package ${pkg[1]}`;
    if (u.startsWith("node:")) return u.startsWith("node:internal/modules") ? "node's module loader" : u;
    const dist = /\/dist\/(.*)$/.exec(u);
    return dist ? `bentoc ${dist[1]}` : u.startsWith(root) ? u.slice(root.length) : "the service bundle";
  };
  const incl = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const self = name(id);
    if (self === "(idle)" || self === "(program)") continue;
    total += dt;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = name(at);
      if (n === "(root)" || seen.has(n)) continue;
      seen.add(n);
      incl.set(n, (incl.get(n) ?? 0) + dt);
    }
  }
  const rows = [...incl].map(([what, ms]) => ({ what, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, rows };
}

/** One process loading, step by step, what the server loads; RSS and heap after each step. */
function memorySteps(afterDir: string, home: string): { step: string; rssMiB: number; heapUsedMiB: number; externalMiB: number }[] {
  const dist = (p: string) => JSON.stringify(`file://${join(afterDir, "dist", p)}`);
  const script = `
    const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;
    const steps = [];
    const mark = (step) => { globalThis.gc?.(); const m = process.memoryUsage(); steps.push({ step, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) }); };
    mark("node, nothing loaded");
    await import("onnxruntime-node");
    mark("+ onnxruntime-node (JS + native library)");
    const { loadOnnxModel } = await import(${dist("runtime/models/onnx-model.js")});
    const model = await loadOnnxModel("tabular-mlp:latest", { home: ${JSON.stringify(home)}, threads: null });
    mark("+ the tabular model's session (bentoc's model store, loadOnnxModel)");
    await import(${dist("runtime/config/load-config.js")});
    await import(${dist("runtime/serve-compiled.js")});
    mark("+ the server's modules (serve-compiled.js and what it imports)");
    await model.close?.();
    process.stdout.write(JSON.stringify(steps));
  `;
  const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
    cwd: afterDir,
    encoding: "utf8",
    env: userEnv({ BENTOC_HOME: home }),
  });
  return JSON.parse(out) as { step: string; rssMiB: number; heapUsedMiB: number; externalMiB: number }[];
}

export async function runServeFootprintBench(options: ServeFootprintOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const beforeRef = options.before ?? SERVE_FOOTPRINT_BEFORE;
  const runs = options.runs ?? 7;
  const generatedAt = new Date().toISOString();
  const scratch = mkdtempSync(join(tmpdir(), "bentoc-serve-footprint-"));
  const worktree = join(scratch, "before");
  try {
    addRefWorktree(beforeRef, worktree);
    installNodeModules(worktree);
    const rev = (cwd: string) => execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim() !== "";
    const versions: Version[] = [
      { label: "before", ref: rev(worktree), dir: worktree, outDir: join(scratch, "before-out"), runs: [], answer: "" },
      { label: "after", ref: `${rev(root)}${dirty ? "+" : ""}`, dir: root, outDir: join(scratch, "after-out"), runs: [], answer: "" },
    ];
    log(`building before (${beforeRef} = ${versions[0]!.ref}) and after (${versions[1]!.ref})`);
    for (const v of versions) execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: v.dir, stdio: "pipe" });
    const home = mkdtempSync(join(scratch, "home-"));
    await prepareModels({ only: ["tabular"], home, log: () => {} });
    for (const v of versions) {
      execFileSync(process.execPath, [join(v.dir, "dist/cli/bentoc.js"), "compile", "samples/tabular", "--out", v.outDir], {
        cwd: v.dir,
        env: userEnv({ BENTOC_HOME: home }),
        stdio: "pipe",
      });
    }
    for (const v of versions) await serveOnce(v, home); // unmeasured: the OS file cache
    for (let i = 0; i < runs; i++) {
      for (const v of versions) {
        const r = await serveOnce(v, home);
        v.runs.push(r);
        log(`${v.label} run ${i + 1}: ready ${r.readyMs.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), RSS ${r.rssMiB.toFixed(1)} MiB, load ${r.load1m}`);
      }
    }
    const [before, after] = versions as [Version, Version];
    if (before.answer !== after.answer) throw new Error(`the two versions answer /predict differently:\n  before ${before.answer}\n  after  ${after.answer}`);

    // Where the rest goes (after only).
    const profDir = join(scratch, "prof");
    mkdirSync(profDir);
    const profiledReadyMs = await withServer(
      after,
      home,
      ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--cpu-prof-interval=250"],
      async (_url, _pid, readyMs) => readyMs,
    );
    const profFile = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
    const profile = profFile ? profileByModule(join(profDir, profFile)) : { totalMs: NaN, rows: [] };
    const memory = memorySteps(root, home);
    log(`after, profiled start-up: ${profile.totalMs.toFixed(0)} ms of CPU samples (ready in ${profiledReadyMs.toFixed(0)} ms with the profiler on)`);

    const machine = machineInfo();
    const stats = (v: Version) => ({
      ref: v.ref,
      runs: v.runs.map((r) => ({
        readyMs: Math.round(r.readyMs),
        cpuMs: Math.round(r.cpuMs),
        rssReadyMiB: Number(r.rssReadyMiB.toFixed(1)),
        rssMiB: Number(r.rssMiB.toFixed(1)),
        load1m: r.load1m,
      })),
      serveToReadyMs: { median: Math.round(median(v.runs.map((r) => r.readyMs))) },
      cpuAtReadyMs: { median: Math.round(median(v.runs.map((r) => r.cpuMs))) },
      rssAtReadyMiB: { median: Number(median(v.runs.map((r) => r.rssReadyMiB)).toFixed(1)) },
      serverRssMiB: { median: Number(median(v.runs.map((r) => r.rssMiB)).toFixed(1)) },
    });
    const b = stats(before);
    const a = stats(after);
    const loads = versions.flatMap((v) => v.runs.map((r) => r.load1m));
    const result = {
      bench: "serve-footprint",
      issue: 16,
      generatedAt,
      machine,
      loadAverage1m: { min: Math.min(...loads), max: Math.max(...loads), median: median(loads) },
      targets: { serveToReadyMs: SERVE_READY_TARGET_MS, serverRssMB: SERVE_RSS_TARGET_MB },
      before: b,
      after: a,
      answersIdentical: true,
      whereItGoes: {
        cpuProfile: {
          readyMs: Math.round(profiledReadyMs),
          sampledCpuMs: Math.round(profile.totalMs),
          top: profile.rows.slice(0, 25).map((r) => ({ ...r, ms: Math.round(r.ms) })),
        },
        memorySteps: memory,
      },
    };

    const perRun = (v: Version) =>
      v.runs.map((r, i) => [v.label, i + 1, fixed(r.readyMs, 0), fixed(r.cpuMs, 0), fixed(r.rssReadyMiB, 1), fixed(r.rssMiB, 1), fixed(r.load1m, 2)]);
    const step = (i: number) => memory[i]?.rssMiB ?? NaN;
    const afterRss = a.serverRssMiB.median;
    const ortMiB = step(2) - step(0);
    const loaderMs = profile.rows.find((r) => r.what === "node's module loader")?.ms ?? NaN;
    const ortMs = profile.rows.find((r) => r.what === "package onnxruntime-node")?.ms ?? NaN;
    const summary = [
      `Memory: node itself is ${fixed(step(0), 1)} MiB before loading anything; onnxruntime-node adds ${fixed(step(1) - step(0), 1)} MiB (its native`,
      `library) and the tabular model's session ${fixed(step(2) - step(1), 1)} MiB more (session state, kernel registry, arenas): ${fixed(ortMiB, 1)} MiB,`,
      `${fixed((100 * ortMiB) / afterRss, 0)} % of the server's ${fixed(afterRss, 1)} MiB, is onnxruntime's. bentoc's runtime modules and the packages they`,
      `import (prom-client among them) add ${fixed(step(3) - step(2), 1)} MiB in that probe; the remaining ${fixed(afterRss - step(3), 1)} MiB of the server (the CLI and commander,`,
      "the service bundle, the HTTP backend, the heap's growth while starting and serving) is not broken down further.",
      `CPU: of ${fixed(profile.totalMs, 0)} ms sampled up to ready, ${fixed(loaderMs, 0)} ms (${fixed((100 * loaderMs) / profile.totalMs, 0)} %) is node's module loader (resolving, reading,`,
      `compiling and evaluating each bentoc module and package the server imports, one file at a time) and ${fixed(ortMs, 0)} ms is onnxruntime-node`,
      "(loading its binding and creating the session, synchronously on the main thread). A bundled server entry (one file)",
      "would cut the loader's share; the native share stays. `@opentelemetry/api` is loaded by prom-client's default process metrics",
      "(processCpuTotal), not by bentoc's tracing, which loads the OpenTelemetry packages only when tracing is on.",
    ];
    const interesting = profile.rows.filter(
      (r) =>
        r.what.startsWith("package ") ||
        r.what.startsWith("bentoc ") ||
        r.what === "the service bundle" ||
        r.what === "node's module loader" ||
        r.what === "(garbage collector)",
    );
    const md = [
      "# Serve footprint (issue 16)",
      "",
      machineLine(generatedAt, machine),
      "",
      `\`bentoc serve <compiled dir>\` of the tabular sample (tiny MLP, inline runner), spawned with the built CLI (\`node dist/cli/bentoc.js\`).`,
      `Before: \`${before.ref}\` (the last commit before the start-up work), built from a worktree. After: \`${after.ref}\`. ${runs} runs each,`,
      "interleaved, after one unmeasured run each; each version compiled the sample itself, and both answered the 50 `/predict` calls",
      "with identical bodies.",
      `Load average (1 min) during the runs: ${fixed(Math.min(...loads), 2)}–${fixed(Math.max(...loads), 2)} on ${machine.cpus} cpus${median(loads) >= machine.cpus ? " — the machine was busy: wall times carry other processes' load; the CPU time column much less" : ""}.`,
      "",
      mdTable(
        ["measure", "before", "after", "target"],
        [
          [
            "serve → /readyz 200 (ms, median)",
            fixed(median(before.runs.map((r) => r.readyMs)), 0),
            fixed(median(after.runs.map((r) => r.readyMs)), 0),
            `≤ ${SERVE_READY_TARGET_MS}`,
          ],
          ["server CPU time (user + system) at ready (ms, median)", fixed(b.cpuAtReadyMs.median, 0), fixed(a.cpuAtReadyMs.median, 0), ""],
          ["RSS at ready (MiB, median)", fixed(b.rssAtReadyMiB.median, 1), fixed(a.rssAtReadyMiB.median, 1), ""],
          [
            "RSS after ready + 50 requests (MiB, median)",
            fixed(b.serverRssMiB.median, 1),
            fixed(a.serverRssMiB.median, 1),
            `≤ ${SERVE_RSS_TARGET_MB} MB (${fixed((SERVE_RSS_TARGET_MB * 1e6) / 2 ** 20, 1)} MiB)`,
          ],
        ],
      ),
      "",
      "Every run:",
      "",
      mdTable(
        ["version", "run", "ready (ms)", "CPU at ready (ms)", "RSS at ready (MiB)", "RSS after 50 requests (MiB)", "load (1 min)"],
        [...perRun(before), ...perRun(after)],
      ),
      "",
      "## Where it goes",
      "",
      `After, one more start-up under \`--cpu-prof\` (250 µs sampling; ready in ${fixed(profiledReadyMs, 0)} ms with the profiler on): ${fixed(profile.totalMs, 0)} ms of`,
      "CPU samples (idle left out), by package or bentoc file, inclusive (a frame's callees count towards it; rows overlap):",
      "",
      mdTable(
        ["where", "CPU ms", "share"],
        interesting.slice(0, 18).map((r) => [r.what, fixed(r.ms, 0), `${fixed((100 * r.ms) / profile.totalMs, 0)} %`]),
      ),
      "",
      "Memory: one process loading, step by step, what the server loads (after a forced GC at each step):",
      "",
      mdTable(
        ["step", "RSS (MiB)", "JS heap used (MiB)", "external (MiB)"],
        memory.map((m) => [m.step, fixed(m.rssMiB, 1), fixed(m.heapUsedMiB, 1), fixed(m.externalMiB, 1)]),
      ),
      "",
      ...summary,
      "",
    ].join("\n");
    const paths = writeResults("serve-footprint", result, md);
    log(
      `before: ready ${b.serveToReadyMs.median} ms, RSS ${b.serverRssMiB.median} MiB; after: ready ${a.serveToReadyMs.median} ms, RSS ${a.serverRssMiB.median} MiB`,
    );
    log(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } finally {
    removeRefWorktree(worktree);
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = arg("--runs");
  await runServeFootprintBench({ before: arg("--before") ?? SERVE_FOOTPRINT_BEFORE, ...(runs ? { runs: Number(runs) } : {}) });
}
