import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile, runLoad } from "../../../loadtest/load-generator.ts";

describe("load generator", () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push(body);
        const fail = req.url === "/fail";
        setTimeout(() => res.writeHead(fail ? 500 : 200, { "content-type": "application/json" }).end("{}"), 2);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("open loop sends exactly rate × duration requests on schedule, with the body, and counts them", async () => {
    bodies.length = 0;
    const r = await runLoad({ url: `${url}/ok`, body: '{"x":1}', headers: { "content-type": "application/json" }, durationMs: 1000, rate: 50 });
    expect(r.requests).toBe(50);
    expect(r.statuses).toEqual({ "200": 50 });
    expect(r.errors).toBe(0);
    expect(bodies.every((b) => b === '{"x":1}')).toBe(true);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p95);
  });

  it("closed loop keeps N clients busy; non-2xx and refused connections are errors, never thrown", async () => {
    const r = await runLoad({ url: `${url}/fail`, method: "GET", durationMs: 300, concurrency: 3 });
    expect(r.requests).toBeGreaterThan(3);
    expect(r.errors).toBe(r.requests);
    expect(Object.keys(r.statuses)).toEqual(["500"]);
    const refused = await runLoad({ url: "http://127.0.0.1:1/x", durationMs: 100, rate: 20 });
    expect(refused.statuses["network"]).toBe(refused.requests);
    expect(refused.rps).toBe(0);
  });

  it("percentile picks the nearest rank", () => {
    const xs = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([percentile(xs, 50), percentile(xs, 95), percentile(xs, 100), percentile([], 50)]).toEqual([5, 10, 10, NaN]);
  });
});
