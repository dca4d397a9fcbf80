/**
 * `bentoc serve --admin` exposes `GET|POST /_bentoc/batching` (what `bentoc bench` drives): it reads and
 * changes the batching settings of the running runners, rejects bad changes field by field, and is absent
 * without `--admin`. It needs the token the server printed, refuses browsers (an Origin header) and
 * anything but JSON. Real server, real (tiny) MiniLM model.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareHome, removeDir, serveSample, type ServedSample } from "../helpers/serve-sample.ts";

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
  fetch(`${url}/_bentoc/batching`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });

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
    const text = await fetch(`${admin.url}/_bentoc/batching`, { method: "POST", headers: { ...auth(), "content-type": "text/plain" }, body: '{"enabled":false}' });
    expect(text.status).toBe(415);
    // None of these changed anything.
    const now = (await (await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() })).json()) as { batching: Setting[] };
    expect(now.batching[0]?.enabled).toBe(true);
  });

  it("lists the settings in force: the decorator's values, adaptive", async () => {
    const res = await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() });
    expect(res.status).toBe(200);
    const { batching } = (await res.json()) as { batching: Setting[] };
    expect(batching).toEqual([{ runner: "ticket-classifier", method: "classify", enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" }]);
  });

  it("changes them, and reset brings back the configured ones; calls keep working throughout", async () => {
    let res = await post(admin.url, { runner: "ticket-classifier", maxBatchSize: 8, maxLatencyMs: 25, policy: "fixed" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { batching: Setting[] }).batching[0]).toMatchObject({ maxBatchSize: 8, maxLatencyMs: 25, policy: "fixed", enabled: true });

    const calls = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${admin.url}/classify`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `my invoice number ${i} is wrong` }) }),
      ),
    );
    expect(calls.map((c) => c.status)).toEqual(Array(12).fill(200));

    res = await post(admin.url, { enabled: false });
    expect(((await res.json()) as { batching: Setting[] }).batching[0]).toMatchObject({ enabled: false, maxBatchSize: 8 });

    res = await post(admin.url, { reset: true });
    expect(((await res.json()) as { batching: Setting[] }).batching[0]).toMatchObject({ enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" });
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

    const now = ((await (await fetch(`${admin.url}/_bentoc/batching`, { headers: auth() })).json()) as { batching: Setting[] }).batching[0];
    expect(now).toMatchObject({ enabled: true, maxBatchSize: 32, maxLatencyMs: 10, policy: "adaptive" });
  });
});
