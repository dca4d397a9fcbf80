/**
 * Package footprint (issue 12): bentoc as a user installs it, before and after the packaging work, measured
 * in one run on one machine. "Before" is a git ref (default 96cb8f6, the last commit before it), checked out
 * into a temporary worktree and packed as it was (`npm pack`: its sources, run through tsx); "after" is this
 * checkout, packed with its build. For each, in a new project in the OS temp dir:
 *
 *   install      wall time of `ONNXRUNTIME_NODE_INSTALL=skip npm install <tarball>`, and the size of node_modules
 *   --help       wall time of `node <its bin> --help` (median of 10)
 *   ready        time from spawning `<its bin> serve <compiled dir>` to the first 200 from /readyz, on the
 *                tabular sample with its tiny model, compiled by that version (median of 5)
 *   RSS          resident memory of that server after /readyz and 50 requests (median of the same 5)
 *
 * Installs run interleaved (before, after, before, after) so a warming npm cache favours neither.
 * Writes bench/results/package-footprint.{json,md}.
 *
 *   npx tsx bench/package-footprint.ts [--before <ref>] [--rounds 2]
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareModels } from "../scripts/models/prepare.ts";
import { freePort } from "../test/helpers/prometheus.ts";
import { INSTALL_ENV, newProject, packRepo, run, userEnv } from "../test/helpers/user-project.ts";
import { addRefWorktree, removeRefWorktree } from "./ref-worktree.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, median, writeResults } from "./results-io.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_BEFORE = "96cb8f6";

export interface PackageFootprintOptions {
  before?: string;
  /** Interleaved install rounds per version (default 2). */
  rounds?: number;
  helpRuns?: number;
  serveRuns?: number;
  log?: (line: string) => void;
}

interface Version {
  label: "before" | "after";
  ref: string;
  tarball: string;
  tarballBytes: number;
  tarballFiles: number;
  installMs: number[];
  nodeModulesBytes: number;
  project: string;
  bin: string;
  helpMs: number[];
  readyMs: number[];
  rssMiB: number[];
}

function duBytes(dir: string): number {
  let total = 0;
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile()) total += statSync(join(d.parentPath, d.name)).size;
  }
  return total;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Serves `outDir` with the project's bentoc; returns ms to the first /readyz 200 and RSS after 50 requests. */
async function serveOnce(v: Version, outDir: string, home: string): Promise<{ readyMs: number; rssMiB: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [v.bin, "serve", outDir, "--port", String(port), "--host", "127.0.0.1"], {
    cwd: v.project,
    env: userEnv({ BENTOC_HOME: home, BENTOC_LOG_LEVEL: "warn" }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-2000)));
  try {
    let readyMs = NaN;
    while (performance.now() - t0 < 60_000) {
      if (child.exitCode !== null) throw new Error(`${v.label}: server exited ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        readyMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!Number.isFinite(readyMs)) throw new Error(`${v.label}: not ready after 60 s: ${stderr}`);
    const body = JSON.stringify({
      dtype: "float32",
      shape: [2, 8],
      data: [1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1],
    });
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${url}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      if (!r.ok) throw new Error(`${v.label}: /predict answered ${r.status}: ${await r.text()}`);
    }
    return { readyMs, rssMiB: rssMiB(child.pid!) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export async function runPackageFootprintBench(options: PackageFootprintOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const beforeRef = options.before ?? DEFAULT_BEFORE;
  const rounds = options.rounds ?? 2;
  const generatedAt = new Date().toISOString();
  const scratch = mkdtempSync(join(tmpdir(), "bentoc-footprint-"));
  const worktree = join(scratch, "before-src");
  const projects: string[] = [];
  try {
    addRefWorktree(beforeRef, worktree);
    const beforeCommit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: worktree,
      encoding: "utf8",
    }).trim();
    const afterCommit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim() !== "";
    const packs = { before: join(scratch, "pack-before"), after: join(scratch, "pack-after") };
    mkdirSync(packs.before);
    mkdirSync(packs.after);
    log(`packing before (${beforeRef} = ${beforeCommit}) and after (${afterCommit}${dirty ? " + uncommitted changes" : ""})`);
    const versions: Version[] = [];
    for (const label of ["before", "after"] as const) {
      const tarball = await packRepo(label === "before" ? worktree : root, packs[label]);
      const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).length;
      versions.push({
        label,
        ref: label === "before" ? beforeCommit : `${afterCommit}${dirty ? "+" : ""}`,
        tarball,
        tarballBytes: statSync(tarball).size,
        tarballFiles: files,
        installMs: [],
        nodeModulesBytes: 0,
        project: "",
        bin: "",
        helpMs: [],
        readyMs: [],
        rssMiB: [],
      });
    }

    for (let round = 0; round < rounds; round++) {
      for (const v of versions) {
        const project = await newProject(`bentoc-footprint-${v.label}-`);
        projects.push(project);
        const ms = await timed(() => run("npm", ["install", v.tarball], project, INSTALL_ENV));
        v.installMs.push(ms);
        log(`install ${v.label} round ${round + 1}: ${(ms / 1000).toFixed(1)} s`);
        if (v.project) rmSync(v.project, { recursive: true, force: true });
        v.project = project;
      }
    }

    const home = mkdtempSync(join(scratch, "home-"));
    await prepareModels({ only: ["tabular"], home, log: () => {} });
    for (const v of versions) {
      v.nodeModulesBytes = duBytes(join(v.project, "node_modules"));
      const pkg = JSON.parse(readFileSync(join(v.project, "node_modules/bentoc/package.json"), "utf8")) as {
        bin: string | Record<string, string>;
      };
      v.bin = join(v.project, "node_modules/bentoc", typeof pkg.bin === "string" ? pkg.bin : (pkg.bin["bentoc"] ?? ""));
      await run(process.execPath, [v.bin, "--help"], v.project); // one unmeasured run: the OS file cache
      for (let i = 0; i < (options.helpRuns ?? 10); i++) v.helpMs.push(await timed(() => run(process.execPath, [v.bin, "--help"], v.project)));
      // the tabular sample, compiled by this version inside its project ("bentoc" resolves to the installed package)
      mkdirSync(join(v.project, "tabular"));
      copyFileSync(join(root, "samples/tabular/service.ts"), join(v.project, "tabular/service.ts"));
      await run(process.execPath, [v.bin, "compile", "tabular", "--out", "tabular-out"], v.project);
      log(`${v.label}: node_modules ${mib(v.nodeModulesBytes)}, --help ${fixed(median(v.helpMs), 0)} ms`);
    }
    for (let i = 0; i < (options.serveRuns ?? 5); i++) {
      for (const v of versions) {
        const r = await serveOnce(v, join(v.project, "tabular-out"), home);
        v.readyMs.push(r.readyMs);
        v.rssMiB.push(r.rssMiB);
      }
    }
    for (const v of versions) log(`${v.label}: serve → /readyz ${fixed(median(v.readyMs), 0)} ms, RSS ${fixed(median(v.rssMiB), 1)} MiB`);

    const machine = machineInfo();
    const summary = (v: Version) => ({
      ref: v.ref,
      tarball: { bytes: v.tarballBytes, files: v.tarballFiles },
      installMs: { runs: v.installMs.map(Math.round), median: Math.round(median(v.installMs)) },
      nodeModulesBytes: v.nodeModulesBytes,
      helpMs: { runs: v.helpMs.map(Math.round), median: Math.round(median(v.helpMs)) },
      serveToReadyMs: { runs: v.readyMs.map(Math.round), median: Math.round(median(v.readyMs)) },
      serverRssMiB: { runs: v.rssMiB.map((x) => Number(x.toFixed(1))), median: Number(median(v.rssMiB).toFixed(1)) },
    });
    const [before, after] = versions as [Version, Version];
    const result = {
      bench: "package-footprint",
      issue: 12,
      generatedAt,
      machine,
      before: summary(before),
      after: summary(after),
    };
    const row = (measure: string, b: string, a: string, runsB: string, runsA: string) => [measure, b, a, runsB, runsA];
    const md = [
      "# Package footprint (issue 12)",
      "",
      machineLine(generatedAt, machine),
      "",
      `Before: \`${before.ref}\` packed as it was (sources run through tsx). After: \`${after.ref}\` (compiled dist/). Each installed with`,
      "`ONNXRUNTIME_NODE_INSTALL=skip npm install <tarball>` into a new `npm init -y` project in the OS temp dir (installs interleaved,",
      "npm's cache shared); the server is the tabular sample (tiny MLP), compiled by each version and served from its compiled directory.",
      "",
      mdTable(
        ["measure", "before", "after", "before runs", "after runs"],
        [
          row("tarball", `${mib(before.tarballBytes)}, ${before.tarballFiles} files`, `${mib(after.tarballBytes)}, ${after.tarballFiles} files`, "", ""),
          row(
            "install (s, median)",
            fixed(median(before.installMs) / 1000, 1),
            fixed(median(after.installMs) / 1000, 1),
            before.installMs.map((x) => (x / 1000).toFixed(1)).join(", "),
            after.installMs.map((x) => (x / 1000).toFixed(1)).join(", "),
          ),
          row("node_modules of the project", mib(before.nodeModulesBytes), mib(after.nodeModulesBytes), "", ""),
          row(
            "`bentoc --help` (ms, median)",
            fixed(median(before.helpMs), 0),
            fixed(median(after.helpMs), 0),
            before.helpMs.map(Math.round).join(", "),
            after.helpMs.map(Math.round).join(", "),
          ),
          row(
            "`bentoc serve <compiled dir>` → /readyz 200 (ms, median)",
            fixed(median(before.readyMs), 0),
            fixed(median(after.readyMs), 0),
            before.readyMs.map(Math.round).join(", "),
            after.readyMs.map(Math.round).join(", "),
          ),
          row(
            "server RSS after ready + 50 requests (MiB, median)",
            fixed(median(before.rssMiB), 1),
            fixed(median(after.rssMiB), 1),
            before.rssMiB.map((x) => x.toFixed(1)).join(", "),
            after.rssMiB.map((x) => x.toFixed(1)).join(", "),
          ),
        ],
      ),
      "",
    ].join("\n");
    const paths = writeResults("package-footprint", result, md);
    log(`wrote ${paths.json} and ${paths.md}`);
    return result;
  } finally {
    for (const p of projects) rmSync(p, { recursive: true, force: true });
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
  const rounds = arg("--rounds");
  await runPackageFootprintBench({
    before: arg("--before") ?? DEFAULT_BEFORE,
    ...(rounds ? { rounds: Number(rounds) } : {}),
  });
}
