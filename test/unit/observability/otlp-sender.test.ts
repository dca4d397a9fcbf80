/**
 * The OTLP/HTTP sender against a real HTTP server: retryable answers (429, 502, 503, 504), timeouts and
 * network errors are retried with the collector's Retry-After or a backoff; anything else, or the last
 * attempt, drops the body and says why; `stopRetrying` ends a wait at once. And the warning a dropped
 * batch gives: the first at once, then at most one a minute with a count.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../runtime/logging/logger.ts";
import { otlpHttpSender } from "../../../runtime/observability/span-export.ts";
import { DROPPED_EXPORT_LOG_INTERVAL_MS, droppedExportWarner } from "../../../runtime/observability/tracing.ts";

interface Collector {
  url: string;
  bodies: string[];
  server: Server;
}

/** A collector answering each POST with the next of `answers` ([status, Retry-After]); the last repeats. */
async function collector(answers: Array<[number, string?]>): Promise<Collector> {
  const bodies: string[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString());
      const [status, retryAfter] = answers[Math.min(n++, answers.length - 1)]!;
      res.writeHead(status, retryAfter === undefined ? {} : { "retry-after": retryAfter }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function sender(url: string, dropped: string[], timeoutMillis = 5000) {
  return otlpHttpSender({
    url,
    headers: {},
    contentType: "application/x-protobuf",
    timeoutMillis,
    onDropped: (p) => dropped.push(p),
    backoffMs: () => 1,
  });
}

describe("otlpHttpSender", () => {
  it("retries 503 and 429 after the collector's Retry-After, and delivers the same body", async () => {
    const c = await collector([[503, "0"], [429, "0"], [200]]);
    servers.push(c.server);
    const dropped: string[] = [];
    const s = sender(c.url, dropped);
    await s.send(Buffer.from("batch-1"));
    expect(c.bodies).toEqual(["batch-1", "batch-1", "batch-1"]);
    expect(dropped).toEqual([]);
    await s.shutdown();
  });

  it("drops a body the collector refuses (400) after one attempt, saying why", async () => {
    const c = await collector([[400]]);
    servers.push(c.server);
    const dropped: string[] = [];
    const s = sender(c.url, dropped);
    await s.send(Buffer.from("bad"));
    expect(c.bodies).toEqual(["bad"]);
    expect(dropped).toEqual(["HTTP 400"]);
    await s.shutdown();
  });

  it("gives up after 5 attempts at a collector that stays unavailable", async () => {
    const c = await collector([[502], [504], [503]]);
    servers.push(c.server);
    const dropped: string[] = [];
    const s = sender(c.url, dropped);
    await s.send(Buffer.from("x"));
    expect(c.bodies).toHaveLength(5);
    expect(dropped).toEqual(["HTTP 503 (5 attempts)"]);
    await s.shutdown();
  });

  it("retries a refused connection, then drops the body naming the error", async () => {
    const c = await collector([[200]]);
    const url = c.url;
    await new Promise((r) => c.server.close(r)); // nothing listens there now
    const dropped: string[] = [];
    const s = sender(url, dropped);
    await s.send(Buffer.from("x"));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(/ECONNREFUSED.*\(5 attempts\)$/);
    await s.shutdown();
  });

  it("stopRetrying ends a Retry-After wait: the body gets one last attempt at once, then is dropped", async () => {
    const c = await collector([[503, "3600"]]);
    servers.push(c.server);
    const dropped: string[] = [];
    const s = sender(c.url, dropped);
    const sending = s.send(Buffer.from("x"));
    while (c.bodies.length === 0) await new Promise((r) => setTimeout(r, 5));
    s.stopRetrying();
    await sending; // would wait an hour for the retry otherwise
    // Two attempts when the wait had begun, one when the first answer was still on its way.
    expect(c.bodies.length).toBeLessThanOrEqual(2);
    expect(dropped).toEqual([`HTTP 503 (${c.bodies.length} attempts)`]);
    await s.shutdown();
  });
});

describe("droppedExportWarner", () => {
  it("warns at once, then at most once a minute with the batches dropped since", () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: "warn",
      write: (t) =>
        t
          .trim()
          .split("\n")
          .forEach((l) => {
            lines.push(JSON.parse(l));
          }),
    });
    let now = 1_000_000;
    const warn = droppedExportWarner(logger, "http://collector:4318/v1/traces", () => now);
    warn("HTTP 503 (5 attempts)");
    now += 1000;
    warn("HTTP 503 (5 attempts)");
    warn("HTTP 400");
    now += DROPPED_EXPORT_LOG_INTERVAL_MS;
    warn("connect ECONNREFUSED 127.0.0.1:4318 (5 attempts)");
    // The logger writes its lines on the next turn of the loop.
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(lines.map((l) => [l["msg"], l["problem"], l["droppedBatches"], l["endpoint"]])).toEqual([
          ["trace export failed; spans dropped", "HTTP 503 (5 attempts)", 1, "http://collector:4318/v1/traces"],
          ["trace export failed; spans dropped", "connect ECONNREFUSED 127.0.0.1:4318 (5 attempts)", 3, "http://collector:4318/v1/traces"],
        ]);
        resolve();
      }),
    );
  });
});
