/**
 * The remote runner client against real sockets: a port nobody listens on, and small node:http servers
 * that reset connections, fail, or never answer (network conditions, not a stand-in for bentoc's runner
 * server, which the e2e tests use).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRemoteRunner } from "../../../runtime/remote/remote-runner.ts";
import { decodeInferRequest, encodeInferResponse } from "../../../runtime/remote/v2-codec.ts";
import type { RunnerManifest } from "../../../sdk/manifest.ts";
import { freePort } from "../../helpers/prometheus.ts";

const runner: RunnerManifest = {
  name: "scorer",
  className: "Scorer",
  model: null,
  placement: "inline",
  resources: {},
  threads: null,
  scaling: { minReplicas: 1, maxReplicas: 10 },
  methods: [
    {
      name: "score",
      batchable: true,
      batchDim: 0,
      maxBatchSize: 8,
      maxLatencyMs: 1,
      groupByLength: false,
      input: { type: "string" },
      output: { type: "array", items: { type: "number" } },
    },
  ],
};

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
}

/** A server whose `handler(n)` decides what the n-th request (0-based) gets. */
async function serve(handler: (n: number, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = seen.length;
      seen.push({ path: req.url ?? "", headers: req.headers });
      handler(n, req, Buffer.concat(chunks), res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Answers like a runner: the length of each string, as one-element rows. */
function answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
  const input = decodeInferRequest(body, req.headers["inference-header-content-length"] as string).inputs[0]!;
  const lengths = (input.data as Uint8Array[]).map((b) => b.byteLength);
  const enc = encodeInferResponse(
    { model_name: "scorer", outputs: [{ name: "output", datatype: "FP32", shape: [lengths.length, 1], data: Float32Array.from(lengths) }] },
    true,
  );
  res.writeHead(200, enc.headers).end(enc.body);
}

const make = (url: string, timeoutMs = 5000) => createRemoteRunner({ runner, defs: {}, url, timeoutMs, pollMs: { ready: 60_000, notReady: 60_000 } });

describe("remote runner calls", () => {
  it("sends a V2 infer request with the traceparent and decodes the answer", async () => {
    const { url, seen } = await serve((_n, req, body, res) => answer(req, body, res));
    const remote = make(url);
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    expect(await remote.call("score", ["abc", "hello"], { traceparent: tp })).toEqual([[3], [5]]);
    expect(seen[0]!.path).toBe("/v2/models/scorer/infer");
    expect(seen[0]!.headers["traceparent"]).toBe(tp);
    expect(Number(seen[0]!.headers["bentoc-timeout-ms"])).toBeGreaterThan(0);
    await remote.stop();
  });

  it("a refused connection is a 503 runner_unavailable naming the runner but not its address (that is in the cause), and marks it not ready", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const remote = make(url);
    await remote.start();
    expect(remote.ready).toBe(false);
    const err = await remote.call("score", ["x"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "runner_unavailable" });
    expect((err as Error).message).toBe("runner scorer is unavailable: could not connect (ECONNREFUSED)");
    expect(JSON.stringify((err as { detail: unknown }).detail)).not.toContain("127.0.0.1");
    expect(((err as Error).cause as Error).message).toContain(`runner scorer at ${url}`);
    expect(remote.detail).toBe("runner scorer is unavailable: could not connect (ECONNREFUSED)");
    await remote.stop();
  });

  it("retries connections reset before an answer, at most twice", async () => {
    const flaky = await serve((n, req, body, res) => (n < 2 ? req.socket.destroy() : answer(req, body, res)));
    const ok = make(flaky.url);
    expect(await ok.call("score", ["four"])).toEqual([[4]]);
    expect(flaky.seen).toHaveLength(3);
    await ok.stop();

    const broken = await serve((_n, req) => req.socket.destroy());
    const bad = make(broken.url);
    await expect(bad.call("score", ["x"])).rejects.toMatchObject({ status: 503, code: "runner_unavailable" });
    expect(broken.seen).toHaveLength(3);
    await bad.stop();
  });

  it("does not retry an error answer other than a retryable 503, and keeps its status and code", async () => {
    const failing = await serve((_n, _req, _body, res) => res.writeHead(500, { "content-type": "application/json" }).end('{"error":"boom","code":"internal"}'));
    const remote = make(failing.url);
    const err = await remote.call("score", ["x"]).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, code: "internal" });
    expect(failing.seen).toHaveLength(1);
    await remote.stop();

    const draining = await serve((n, req, body, res) =>
      n === 0 ? res.writeHead(503, { "content-type": "application/json" }).end('{"error":"draining","code":"shutting_down"}') : answer(req, body, res),
    );
    const again = make(draining.url);
    expect(await again.call("score", ["xy"])).toEqual([[2]]);
    expect(draining.seen).toHaveLength(2);
    await again.stop();
  });

  it("a runner that never answers is a 504 runner_timeout, not a hang", async () => {
    const silent = await serve(() => {});
    const remote = make(silent.url, 300);
    await expect(remote.call("score", ["x"])).rejects.toMatchObject({ status: 504, code: "runner_timeout" });
    expect(silent.seen).toHaveLength(1);
    await remote.stop();
  });

  it("readiness follows /v2/health/ready", async () => {
    let up = false;
    const { url } = await serve((_n, _req, _body, res) =>
      res.writeHead(up ? 200 : 503, { "content-type": "application/json" }).end(up ? '{"ready":true}' : '{"ready":false,"error":"loading"}'),
    );
    const remote = createRemoteRunner({ runner, defs: {}, url, timeoutMs: 5000, pollMs: { ready: 20, notReady: 20 } });
    await remote.start();
    expect(remote.ready).toBe(false);
    expect(remote.detail).toContain("loading");
    up = true;
    await expect.poll(() => remote.ready, { timeout: 10_000 }).toBe(true);
    await remote.stop();
  });
});
