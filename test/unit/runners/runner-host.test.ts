import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../runtime/config/load-config.ts";
import { createRunnerHost } from "../../../runtime/runners/create-runner-host.ts";
import type { Manifest, RunnerManifest, RunnerMethodManifest } from "../../../sdk/manifest.ts";

function method(name: string, maxBatchSize: number, maxLatencyMs: number): RunnerMethodManifest {
  return { name, batchable: true, batchDim: 0, maxBatchSize, maxLatencyMs, groupByLength: false, input: {}, output: {} };
}

function runnerManifest(name: string, className: string, methods: RunnerMethodManifest[], placement: "inline" | "worker" = "inline"): RunnerManifest {
  return { name, className, model: null, placement, resources: {}, threads: null, scaling: { minReplicas: 1, maxReplicas: 10 }, methods };
}

function manifestOf(runners: RunnerManifest[]): Manifest {
  return {
    schemaVersion: 3,
    compiler: "test",
    service: {
      name: "fixture",
      className: "Fixture",
      version: "0",
      labels: {},
      traffic: { timeoutMs: 1000, maxConcurrency: 10 },
      resources: {},
      secrets: [],
      apis: [],
      dependencies: [],
    },
    runners,
    models: [],
    $defs: {},
    entry: { source: "fixtures/echo-runners.ts", bundle: "bundle.mjs" },
  };
}

const scorer = (placement: "inline" | "worker") => runnerManifest("scorer", "Scorer", [method("score", 4, 1), method("where", 8, 10)], placement);

let bundlePath = "";
let module: Record<string, unknown> = {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "bentoc-runners-"));
  bundlePath = join(dir, "bundle.mjs");
  await build({
    entryPoints: [join(import.meta.dirname, "fixtures/echo-runners.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile: bundlePath,
    logLevel: "silent",
  });
  module = (await import(pathToFileURL(bundlePath).href)) as Record<string, unknown>;
});

describe("createRunnerHost", () => {
  const hosts: Array<{ stop(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
  });

  it("gives the same results inline and in a worker thread, batched, with per-item errors", async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const requests = Array.from({ length: 30 }, () =>
      Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Array.from({ length: 1 + Math.floor(rand() * 9) }, () => rand() * 6 - 3)),
    );
    const outputs: Record<string, unknown[]> = {};
    for (const placement of ["inline", "worker"] as const) {
      const manifest = manifestOf([scorer(placement)]);
      const host = createRunnerHost(manifest, module, undefined, { bundlePath });
      hosts.push(host);
      expect(host.ready).toBe(false);
      await host.start();
      expect(host.ready).toBe(true);
      expect(host.status()).toEqual([{ name: "scorer", ready: true }]);
      const proxy = host.proxy("scorer");
      expect(await proxy["where"]?.(["x"])).toEqual([`x@${placement === "inline" ? "main" : "worker"}`]);
      const results = await Promise.all(requests.map((rows) => proxy["score"]!(rows)));
      outputs[placement] = results.map((r) => r.map((row) => Array.from(row as Float32Array)));
      for (const r of results) for (const row of r) expect(row).toBeInstanceOf(Float32Array);
      const stats = host.stats("scorer", "score");
      expect(stats?.items).toBe(requests.reduce((s, r) => s + r.length, 0));
      expect(Math.max(...(stats?.lastBatchSizes ?? []))).toBeLessThanOrEqual(4);
      expect(stats?.batches).toBeLessThan(stats?.items ?? 0);

      const out = await Promise.allSettled([proxy["score"]!([[1, 2]]), proxy["score"]!([[Number.NaN]]), proxy["score"]!([[3]])]);
      expect(out.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((out[1] as PromiseRejectedResult).reason).toMatchObject({ name: "RangeError", message: "row 1 has a NaN" }); // index 1 of the batch the three calls shared;
      await host.stop();
      expect(host.ready).toBe(false);
    }
    expect(outputs["worker"]).toEqual(outputs["inline"]);
    // Unbatched reference: one row per call, one at a time.
    const inline = createRunnerHost(manifestOf([scorer("inline")]), module);
    hosts.push(inline);
    await inline.start();
    for (let i = 0; i < requests.length; i++) {
      for (let j = 0; j < (requests[i]?.length ?? 0); j++) {
        const [alone] = await inline.handle("scorer").call("score", [requests[i]![j]]);
        const batched = (outputs["inline"]![i] as number[][])[j] as number[];
        Array.from(alone as Float32Array).forEach((v, k) => {
          expect(Math.abs(v - (batched[k] as number))).toBeLessThan(1e-5);
        });
      }
    }
  });

  it("applies the effective config per method (bentoc.yaml-style overrides over decorator values)", async () => {
    const manifest = manifestOf([scorer("inline")]);
    const config = loadConfig({ manifest, file: null, env: { BENTOC_RUNNERS__SCORER__METHODS__SCORE__MAX_BATCH_SIZE: "2" } });
    const host = createRunnerHost(manifest, module, config);
    hosts.push(host);
    await host.start();
    const rows = Array.from({ length: 9 }, (_, i) => [i]);
    await host.handle("scorer").call("score", rows);
    expect(host.stats("scorer", "score")?.lastBatchSizes).toEqual([2, 2, 2, 2, 1]);
  });

  it("reports a runner whose setup throws as not ready, with the reason, for inline and worker", async () => {
    for (const placement of ["inline", "worker"] as const) {
      const manifest = manifestOf([scorer("inline"), runnerManifest("broken", "Broken", [method("run", 8, 5)], placement)]);
      const host = createRunnerHost(manifest, module, undefined, { bundlePath });
      hosts.push(host);
      await expect(host.start()).rejects.toThrow(/runner broken is not ready: Broken\.setup\(\) failed: tokenizer\.json is missing/);
      expect(host.ready).toBe(false);
      expect(host.status()).toEqual([
        { name: "scorer", ready: true },
        { name: "broken", ready: false, detail: "Broken.setup() failed: tokenizer.json is missing" },
      ]);
      await expect(host.handle("broken").call("run", [1])).rejects.toMatchObject({ status: 503, code: "not_ready" });
      expect(await host.handle("scorer").call("where", ["ok"])).toEqual(["ok@main"]);
      await host.stop();
    }
  });

  it("fails clearly when the bundle lacks the class or a worker runner has no bundle path", async () => {
    const missing = createRunnerHost(manifestOf([runnerManifest("ghost", "Ghost", [])]), module);
    await expect(missing.start()).rejects.toThrow(/does not export runner class Ghost/);
    const noBundle = createRunnerHost(manifestOf([scorer("worker")]), module);
    await expect(noBundle.start()).rejects.toThrow(/no bundlePath/);
  });
});
