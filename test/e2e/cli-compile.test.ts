/**
 * `bentoc compile` as a user runs it: exit codes, the files it writes, identical bytes on a second run
 * (bundle included), and tsc-style diagnostics with a code frame for broken services.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { MANIFEST_SCHEMA_VERSION } from "../../sdk/manifest.ts";
import { bentocBin, repoRoot } from "../helpers/serve-sample.ts";

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [bentocBin, ...args], { cwd: repoRoot, encoding: "utf8", env });
}

function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

describe("bentoc compile", () => {
  it("writes the manifest, OpenAPI, client, k8s, Containerfile and bundle, identically twice", () => {
    const a = mkdtempSync(join(tmpdir(), "bentoc-cli-a-"));
    const b = mkdtempSync(join(tmpdir(), "bentoc-cli-b-"));
    try {
      const first = run(["compile", "samples/support-tickets", "--out", a]);
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/✓ compiled support-tickets \(4 APIs, 2 runners\)/);
      const second = run(["compile", "samples/support-tickets", "--out", b]);
      expect(second.status, second.stderr).toBe(0);
      const ta = tree(a);
      const tb = tree(b);
      for (const f of [
        "bento.json",
        "openapi.json",
        "client/index.ts",
        "client/index.js",
        "client/index.d.ts",
        "client/package.json",
        "service.mjs",
        "service.mjs.map",
        "Containerfile",
        "k8s/base/kustomization.yaml",
        "grafana/dashboard.json",
      ]) {
        expect(ta.has(f), `${f} written`).toBe(true);
      }
      expect([...ta.keys()].sort()).toEqual([...tb.keys()].sort());
      for (const [f, content] of ta) expect(tb.get(f), `${f} identical`).toBe(content);
      expect(JSON.parse(ta.get("bento.json") ?? "{}").schemaVersion).toBe(MANIFEST_SCHEMA_VERSION);
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });

  it.each([
    ["duplicate-route.ts", "BC1004"],
    ["unknown-runner.ts", "BC1003"],
    ["non-static-option.ts", "BC1005"],
    ["type-error.ts", "TS2322"],
  ])("reports %s with %s, file:line:col and a code frame, and exits 1", (file, code) => {
    const path = join("test/fixtures/broken", file);
    const source = readFileSync(join(repoRoot, path), "utf8").split("\n");
    const line = source.findIndex((l) => l.includes(`expect: ${code}`)) + 1;
    const r = run(["compile", path, "--out", join(tmpdir(), "bentoc-never-written")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${path.replace(/[./]/g, "\\$&")}:${line}:\\d+ - error ${code}:`));
    expect(r.stderr).toMatch(/\n\s*~+/); // the underline of the code frame
    expect(r.stdout).toMatch(/nothing emitted/);
  });

  it("checks the runners' models against $BENTOC_HOME: a tag not in it is a warning with a hint, and the compile succeeds", () => {
    const home = mkdtempSync(join(tmpdir(), "bentoc-cli-home-"));
    const out = mkdtempSync(join(tmpdir(), "bentoc-cli-out-"));
    try {
      const r = run(["compile", "samples/tabular", "--out", out], { ...process.env, BENTOC_HOME: home });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /samples\/tabular\/service\.ts:10:\d+ - warning BC2003: Model 'tabular-mlp:latest' of runner tabular-mlp is not in the model store \(.*\)\. The store is empty\./,
      );
      expect(r.stderr).toMatch(/\nhint: `bentoc build` and `bentoc serve` need it/);
      expect(r.stdout).toMatch(/✓ compiled tabular/);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("a depends() handle used for what is not @batchable fails: BC1024 (and TS2339 for a field), also with --no-typecheck", () => {
    const path = "test/fixtures/broken/depends-not-batchable.ts";
    const never = join(tmpdir(), "bentoc-never-written");
    const checked = run(["compile", path, "--out", never]);
    expect(checked.status).toBe(1);
    expect(checked.stderr).toMatch(/depends-not-batchable\.ts:25:\d+ - error BC1024: 'explain' is not a @batchable method of runner Scorer/);
    expect(checked.stderr).toMatch(/depends-not-batchable\.ts:26:\d+ - error TS2339: Property 'threshold' does not exist on type 'RunnerHandle<Scorer>'/);
    expect(checked.stderr).toMatch(/hint: Decorate Scorer\.explain with @batchable/);
    const unchecked = run(["compile", path, "--out", never, "--no-typecheck"]);
    expect(unchecked.status).toBe(1);
    expect(unchecked.stderr).not.toMatch(/error TS2339/);
    expect(unchecked.stderr.match(/error BC1024/g)).toHaveLength(2);
  });

  it("prints diagnostics as JSON for tools", () => {
    const r = run(["compile", "test/fixtures/broken/duplicate-route.ts", "--format", "json", "--out", join(tmpdir(), "bentoc-never-written")]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<{ code: string; file: string; line: number }> };
    expect(out.ok).toBe(false);
    expect(out.diagnostics.map((d) => d.code)).toContain("BC1004");
    expect(out.diagnostics[0]?.file).toBe("test/fixtures/broken/duplicate-route.ts");
  });
});

describe("a hand-edited bento.json", () => {
  it("makes `bentoc serve` and `bentoc serve-runner` exit 1 with one line naming the field, no stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "bentoc-cli-edited-"));
    try {
      const compiled = run(["compile", "samples/tabular", "--out", dir]);
      expect(compiled.status, compiled.stderr).toBe(0);
      const file = join(dir, "bento.json");
      const manifest = JSON.parse(readFileSync(file, "utf8"));
      delete manifest.service.apis[0].route;
      writeFileSync(file, JSON.stringify(manifest, null, 2));

      const served = run(["serve", dir, "--port", "0"]);
      expect(served.status).toBe(1);
      expect(served.stderr).toBe(`error: ${file}: /service/apis/0/route: missing required field\n`);
      expect(served.stdout).toBe("");

      const runner = run(["serve-runner", dir, "--runner", manifest.runners[0].name, "--port", "0"]);
      expect(runner.status).toBe(1);
      expect(runner.stderr).toBe(`error: ${file}: /service/apis/0/route: missing required field\n`);

      manifest.service.apis[0].route = ["/predict"];
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      const typed = run(["serve", dir, "--port", "0"]);
      expect(typed.status).toBe(1);
      expect(typed.stderr).toBe(`error: ${file}: /service/apis/0/route: must be string\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a busy port", () => {
  it("makes `bentoc serve` exit 1 with one line naming the port and what to do, on either backend", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bentoc-cli-busy-"));
    const holder = createServer();
    try {
      const compiled = run(["compile", "samples/tabular", "--out", dir]);
      expect(compiled.status, compiled.stderr).toBe(0);
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const port = (holder.address() as { port: number }).port;
      for (const http of ["uws", "node"]) {
        const served = run(["serve", dir, "--port", String(port), "--host", "127.0.0.1"], { ...process.env, BENTOC_HTTP: http });
        expect([http, served.status, served.stderr, served.stdout]).toEqual([
          http,
          1,
          `error: port ${port} on 127.0.0.1 is already in use (another server is listening there); stop it or choose another port with --port\n`,
          "",
        ]);
      }
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
