/**
 * `bentoc compile` as a user runs it: exit codes, the files it writes, identical bytes on a second run
 * (bundle included), and tsc-style diagnostics with a code frame for broken services.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { bentocBin, repoRoot } from "../helpers/serve-sample.ts";
import { MANIFEST_SCHEMA_VERSION } from "../../sdk/manifest.ts";

function run(args: string[]) {
  return spawnSync(process.execPath, [bentocBin, ...args], { cwd: repoRoot, encoding: "utf8" });
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
