/**
 * Registry transfer (issue 18): push and pull of the full MiniLM model (the support-tickets sample's, 87 MB)
 * to a local registry — Debian's docker-registry (distribution 2.8) on loopback with htpasswd auth and TLS,
 * as the tests start it (test/helpers/registry.ts) — through the built CLI, wall time of each command
 * (Node start included):
 *
 *   push          `bentoc models push` to a new repository (every blob uploaded)
 *   second push   the same command again (the tag already names the manifest: one HEAD)
 *   new tag       a push of the same model under another tag (every blob HEADed, none uploaded, one manifest PUT)
 *   pull          `bentoc models pull` into an empty store (every blob downloaded, hashed, installed)
 *
 * Each round uses a new repository, so nothing is shared across rounds. Beside every figure is the load
 * average (`uptime`'s three numbers) read right after that command: on a shared machine a figure is only
 * as good as the quiet it was taken in. Writes bench/results/registry-transfer.{json,md}; `npm run bench`
 * runs it as the stage `registry-transfer`.
 *
 *   npx tsx bench/registry-transfer.ts [--rounds 3]
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ModelStore } from "../runtime/models/model-store.ts";
import { prepareModels } from "../scripts/models/prepare.ts";
import { startRegistry } from "../test/helpers/registry.ts";
import { fixed, isMain, machineInfo, machineLine, mdTable, median, writeResults } from "./results-io.ts";

const CLI = fileURLToPath(new URL("../dist/cli/bentoc.js", import.meta.url));

/** One measured command: its wall time and the load average right after it. */
export interface Timed {
  ms: number;
  /** `uptime`'s load average: 1, 5 and 15 minutes. */
  load: [number, number, number];
}

/** The load average as `uptime` prints it (its numbers; os.loadavg() when uptime is missing). */
export function uptimeLoad(): [number, number, number] {
  try {
    const m = /load averages?:\s*([\d.]+),?\s+([\d.]+),?\s+([\d.]+)/.exec(execFileSync("uptime", { encoding: "utf8" }));
    if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  } catch {
    // fall through
  }
  const [a = 0, b = 0, c = 0] = loadavg();
  return [Number(a.toFixed(2)), Number(b.toFixed(2)), Number(c.toFixed(2))];
}

const loadText = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(" ");

export interface RegistryTransferOptions {
  rounds?: number;
  log?: (line: string) => void;
}

function bentoc(args: string[], env: Record<string, string>): Promise<Timed & { stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`bentoc ${args.join(" ")} failed (${code}):\n${stderr}`));
      else resolveRun({ ms, load: uptimeLoad(), stderr });
    });
  });
}

export async function runRegistryTransferBench(options: RegistryTransferOptions = {}): Promise<unknown> {
  const rounds = options.rounds ?? 3;
  const log = options.log ?? ((line: string) => console.log(line));
  const home = mkdtempSync(join(tmpdir(), "bentoc-bench-registry-"));
  const registry = await startRegistry();
  const loadBefore = uptimeLoad();
  try {
    log("registry-transfer: preparing the full support-tickets model");
    await prepareModels({ variant: "full", only: ["support-tickets"], home, log: () => {} });
    // the largest model the sample has (it may be split into several; the MiniLM encoder is the big one)
    const [model] = (await new ModelStore(home).list()).sort((a, b) => b.size - a.size);
    if (!model) throw new Error("no model was prepared");
    log(
      `registry-transfer: ${model.tag} (${fixed(model.size / 1e6, 1)} MB = ${fixed(model.size / 2 ** 20, 1)} MiB, ${model.files.length} files) → ${registry.host}`,
    );
    const env = { BENTOC_HOME: home, REGISTRY_AUTH_FILE: registry.authFile };
    const tls = ["--ca-file", registry.caFile];
    const runs = { push: [] as Timed[], secondPush: [] as Timed[], newTagPush: [] as Timed[], pull: [] as Timed[] };
    const timed = ({ ms, load }: Timed): Timed => ({ ms: Number(ms.toFixed(1)), load });
    for (let round = 0; round < rounds; round++) {
      const repo = `${registry.host}/bench/r${round}-${model.name}`;
      runs.push.push(timed(await bentoc(["models", "push", model.tag, repo, ...tls], env)));
      const second = await bentoc(["models", "push", model.tag, repo, ...tls], env);
      if (!second.stderr.includes("nothing uploaded")) throw new Error(`the second push uploaded something:\n${second.stderr}`);
      runs.secondPush.push(timed(second));
      const retag = await bentoc(["models", "push", model.tag, `${repo}:retagged`, ...tls], env);
      if (!/ 0 blobs uploaded /.test(retag.stderr)) throw new Error(`the push under a new tag uploaded something:\n${retag.stderr}`);
      runs.newTagPush.push(timed(retag));
      const fresh = mkdtempSync(join(tmpdir(), "bentoc-bench-pull-"));
      try {
        runs.pull.push(timed(await bentoc(["models", "pull", `${repo}:${model.version}`, ...tls], { ...env, BENTOC_HOME: fresh })));
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
      const last = (k: keyof typeof runs) => runs[k].at(-1)!;
      log(
        `  round ${round + 1}: push ${fixed(last("push").ms / 1000, 2)} s (load ${loadText(last("push").load)}), second push ${fixed(last("secondPush").ms, 0)} ms (load ${loadText(last("secondPush").load)}), ` +
          `new tag ${fixed(last("newTagPush").ms, 0)} ms, pull ${fixed(last("pull").ms / 1000, 2)} s (load ${loadText(last("pull").load)})`,
      );
    }
    const times = {
      pushMs: runs.push.map((r) => r.ms),
      secondPushMs: runs.secondPush.map((r) => r.ms),
      newTagPushMs: runs.newTagPush.map((r) => r.ms),
      pullMs: runs.pull.map((r) => r.ms),
    };
    const machine = machineInfo();
    const generatedAt = new Date().toISOString();
    const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [`${k}Ms`, { median: median(v.map((r) => r.ms)), runs: v }]));
    const result = {
      generatedAt,
      machine,
      loadAverageBefore: loadBefore,
      registry: "docker-registry (distribution 2.8, Debian) on 127.0.0.1, TLS + htpasswd (bcrypt), filesystem storage in the OS temp dir",
      model: { tag: model.tag, bytes: model.size, files: model.files.length },
      rounds,
      ...summary,
    };
    const mbps = (ms: number) => fixed(model.size / 1e6 / (ms / 1000), 0);
    const md = [
      "# Registry transfer: the full MiniLM model to a local registry",
      "",
      `${machineLine(generatedAt, machine)} (at the start ${loadText(loadBefore)})`,
      "",
      `${model.tag}: ${fixed(model.size / 1e6, 1)} MB (${fixed(model.size / 2 ** 20, 1)} MiB) in ${model.files.length} files; ${result.registry}. Wall time of each \`bentoc\` command (Node start included), median of ${rounds} rounds, each round a new repository. Each run is followed by the load average \`uptime\` printed right after it (1, 5, 15 min).`,
      "",
      mdTable(
        ["command", "median", "runs (load average after each)", "throughput"],
        [
          [
            "`bentoc models push` (every blob uploaded)",
            `${fixed(median(times.pushMs) / 1000, 2)} s`,
            runs.push.map((r) => `${fixed(r.ms / 1000, 2)} s (${loadText(r.load)})`).join(", "),
            `${mbps(median(times.pushMs))} MB/s`,
          ],
          [
            "second push, same tag (one HEAD of the manifest)",
            `${fixed(median(times.secondPushMs), 0)} ms`,
            runs.secondPush.map((r) => `${fixed(r.ms, 0)} ms (${loadText(r.load)})`).join(", "),
            "–",
          ],
          [
            "push under a new tag (blobs HEADed, none uploaded)",
            `${fixed(median(times.newTagPushMs), 0)} ms`,
            runs.newTagPush.map((r) => `${fixed(r.ms, 0)} ms (${loadText(r.load)})`).join(", "),
            "–",
          ],
          [
            "`bentoc models pull` into an empty store",
            `${fixed(median(times.pullMs) / 1000, 2)} s`,
            runs.pull.map((r) => `${fixed(r.ms / 1000, 2)} s (${loadText(r.load)})`).join(", "),
            `${mbps(median(times.pullMs))} MB/s`,
          ],
        ],
      ),
      "",
      "    npm run bench -- --only registry-transfer      (or: npx tsx bench/registry-transfer.ts [--rounds 3], after npm run build)",
    ].join("\n");
    writeResults("registry-transfer", result, md);
    return result;
  } finally {
    await registry.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
  await runRegistryTransferBench({ rounds: Number(values.rounds) });
}
