/**
 * `bentoc serve --admin` exposes `GET|POST /_bentoc/batching` (what `bentoc bench` drives): it reads and
 * changes the batching settings of the running runners, rejects bad changes field by field, and is absent
 * without `--admin`. It needs the token the server printed, refuses browsers (an Origin header) and
 * anything but JSON. `bentoc bench` drives it and reports each runner's mean batch size. Real server, real
 * (tiny) MiniLM encoder and the classifier fitted on it: two runners.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bentocBin, prepareHome, removeDir, repoRoot, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

interface Setting {
  runner: string;
  method: string;
  enabled: boolean;
  maxBatchSize: number;
  maxLatencyMs: number;
  policy: string;
}

let token = "";
const auth = () => ({ authorization: `Bearer ${token}` });
const post = (url: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${url}/_bentoc/batching`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("the batching admin route", () => {
  let home: string;
  let admin: ServedSample;
  let plain: ServedSample;

  beforeAll(async () => {
    home = await prepareHome(["support-tickets"]);
    [admin, plain] = await Promise.all([serveSample("support-tickets", { home, args: ["--admin"] }), serveSample("support-tickets", { home })]);
    token = /admin .*\/_bentoc\/batching\s+token (\S+)/.exec(admin.output())?.[1] ?? "";
    expect(token.length).toBeGreaterThanOrEqual(32);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([admin?.stop(), plain?.stop()]);
    for (const s of [admin, plain]) if (s) removeDir(s.outDir);
    if (home) removeDir(home);
  });

  it("is not there without --admin", async () => {
    const res = await post(plain.url, { enabled: false });
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe("not_found");
  });

  it("needs the printed token, answers no browser and takes only JSON", async () => {
    const none = await fetch(`${admin.url}/_bentoc/batching`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await none.json()) as { code: string }).code).toBe("unauthorized");
    expect((await post(admin.url, { enabled: false }, { authorization: "Bearer wrong-token-of-some-length-1234567" })).status).toBe(401);
    // A web page the developer visits cannot use it: its request carries an Origin header.
    const page = await post(admin.url, { enabled: false }, { ...auth(), origin: "http://evil.example" });
    expect(page.status).toBe(403);
    expect(((await page.json()) as { code: string }).code).toBe("forbidden");
    const text = await fetch(`${admin.url}/_bentoc/batching`, {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain" },
      body: '{"enabled":false}',
    });
    expect(text.status).toBe(415);
    // None of these changed anything.
    const now = (await (await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() })).json()) as { batching: Setting[] };
    expect(now.batching.map((b) => b.enabled)).toEqual([true, true]);
  });

  it("lists the settings in force: the decorator's values, adaptive", async () => {
    const res = await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() });
    expect(res.status).toBe(200);
    const { batching } = (await res.json()) as { batching: Setting[] };
    expect(batching).toEqual([
      { runner: "classifier", method: "classify", enabled: true, maxBatchSize: 128, maxLatencyMs: 2, policy: "adaptive" },
      { runner: "embedding", method: "embed", enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" },
    ]);
  });

  it("changes them, and reset brings back the configured ones; calls keep working throughout", async () => {
    const of = (list: Setting[], runner: string) => list.find((b) => b.runner === runner);
    let res = await post(admin.url, { runner: "embedding", maxBatchSize: 8, maxLatencyMs: 25, policy: "fixed" });
    expect(res.status).toBe(200);
    let batching = ((await res.json()) as { batching: Setting[] }).batching;
    expect(of(batching, "embedding")).toMatchObject({ maxBatchSize: 8, maxLatencyMs: 25, policy: "fixed", enabled: true });
    expect(batching.map((b) => b.runner)).toEqual(["embedding"]); // the answer lists what changed
    const all = ((await (await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() })).json()) as { batching: Setting[] }).batching;
    expect(of(all, "classifier")).toMatchObject({ maxBatchSize: 128, maxLatencyMs: 2, policy: "adaptive", enabled: true }); // not named: unchanged

    const calls = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${admin.url}/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ texts: [`my invoice number ${i} is wrong`, "cannot log in"] }),
        }),
      ),
    );
    expect(calls.map((c) => c.status)).toEqual(Array(12).fill(200));

    res = await post(admin.url, { enabled: false });
    batching = ((await res.json()) as { batching: Setting[] }).batching;
    expect(of(batching, "embedding")).toMatchObject({ enabled: false, maxBatchSize: 8 });
    expect(of(batching, "classifier")).toMatchObject({ enabled: false, maxBatchSize: 128 });

    res = await post(admin.url, { reset: true });
    batching = ((await res.json()) as { batching: Setting[] }).batching;
    expect(of(batching, "embedding")).toMatchObject({ enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" });
    expect(of(batching, "classifier")).toMatchObject({ enabled: true, maxBatchSize: 128, maxLatencyMs: 2, policy: "adaptive" });
  });

  it("rejects bad changes with 400, naming each field and why, and changes nothing", async () => {
    let res = await post(admin.url, { maxBatchSize: 2.5, policy: "sometimes", colour: "red" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; detail: { path: string; message: string }[] };
    expect(body.code).toBe("invalid_input");
    expect(body.detail.map((d) => d.path).sort()).toEqual(["/colour", "/maxBatchSize", "/policy"]);
    expect(body.detail.find((d) => d.path === "/maxBatchSize")?.message).toMatch(/integer/);

    res = await post(admin.url, "{not json");
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe("malformed_body");

    res = await post(admin.url, { runner: "no-such-runner", enabled: false });
    expect(res.status).toBe(400);
    expect((await res.json()).detail[0].message).toMatch(/no-such-runner/);

    res = await fetch(`${admin.url}/_bentoc/batching`, { method: "DELETE", headers: auth() });
    expect(res.status).toBe(405);

    const now = ((await (await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() })).json()) as { batching: Setting[] }).batching;
    expect(now.find((b) => b.runner === "embedding")).toMatchObject({ enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" });
  });

  it("bentoc bench drives it and reports each runner's mean batch size", () => {
    const dir = mkdtempSync(join(tmpdir(), "bentoc-bench-"));
    try {
      writeFileSync(join(dir, "payload.json"), JSON.stringify({ texts: ["refund needed", "cannot log in", "the app crashes", "hello"] }));
      const args = ["bench", "--url", admin.url, "--api", "classify", "--payload", join(dir, "payload.json"), "--concurrency", "8"];
      const run = spawnSync(
        process.execPath,
        [bentocBin, ...args, "--duration", "1500ms", "--warmup", "300ms", "--windows", "off,adaptive", "--json", join(dir, "out.json")],
        {
          cwd: repoRoot,
          env: { ...process.env, BENTOC_ADMIN_TOKEN: token },
          encoding: "utf8",
        },
      );
      expect(run.status, run.stderr).toBe(0);
      const [header] = run.stdout.split("\n");
      expect(header).toMatch(/^setting\s+req\/s\s+p50 ms\s+p95 ms\s+p99 ms\s+batch classifier\s+batch embedding\s+errors$/);
      const report = JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as {
        rows: { setting: string; rps: number; errors: number; runners: Record<string, { meanBatchSize: number; itemsPerS: number }> }[];
      };
      expect(report.rows.map((r) => r.setting)).toEqual(["off", "adaptive"]);
      for (const row of report.rows) {
        expect(row.errors).toBe(0);
        expect(Object.keys(row.runners)).toEqual(["classifier", "embedding"]);
        // Four texts per request: each runner executes four items per answered request.
        for (const r of Object.values(row.runners)) expect(r.itemsPerS).toBeGreaterThan(0);
      }
      // Batching off: every call is its own batch, and a call carries a request's four texts.
      expect(report.rows[0]!.runners["embedding"]!.meanBatchSize).toBe(4);
      expect(report.rows[0]!.runners["classifier"]!.meanBatchSize).toBe(4);
      // Adaptive, 8 clients: calls of several requests share batches (up to maxBatchSize 32).
      expect(report.rows[1]!.runners["embedding"]!.meanBatchSize).toBeGreaterThanOrEqual(4);
      expect(report.rows[1]!.runners["embedding"]!.meanBatchSize).toBeLessThanOrEqual(32);
    } finally {
      removeDir(dir);
    }
  });
});
