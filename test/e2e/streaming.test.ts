/**
 * Streaming APIs against the real server (`bentoc serve` of the compiled fixture and sample, the backend
 * of the project: uWebSockets.js in `e2e`, node:http in `e2e-node`): items arrive as they are produced, SSE
 * and NDJSON framing, a paused reader pauses the generator, a client that leaves ends the generator (its
 * `finally` runs) and its queued runner calls, stream limits and heartbeats, errors after the first item,
 * the typed client, and concurrent streams sharing batches. Gates the test opens itself replace timing:
 * no assertion depends on how fast anything is.
 */

import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.ts";
import { freePort } from "../helpers/prometheus.ts";
import { expectBackend, prepareHome, removeDir, repoRoot, type ServedSample, serveSample, startBentoc, waitReady } from "../helpers/serve-sample.ts";

interface Server {
  pid: number;
  url: string;
  port: number;
  outDir: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

const servers: Server[] = [];
const dirs: string[] = [];
let fixture: Server;

/** Compiles test/fixtures/streaming and serves it with `env` (stream settings). */
async function serveFixture(env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const outDir = mkdtempSync(join(tmpdir(), "bentoc-streaming-"));
  dirs.push(outDir);
  const result = await compile({ entry: join(repoRoot, "test/fixtures/streaming"), outDir });
  if (!result.manifest) throw new Error(`compile failed: ${JSON.stringify(result.diagnostics)}`);
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), "bentoc-home-"));
  dirs.push(home);
  const { child, output } = startBentoc(["serve", outDir, "--port", String(port), "--host", "127.0.0.1"], {
    BENTOC_HOME: home,
    BENTOC_LOG_LEVEL: "warn",
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, output);
  for (const until = Date.now() + 30_000; !output().includes("bentoc: serving") && Date.now() < until; ) await sleep(50);
  expectBackend(output());
  const server: Server = {
    pid: child.pid ?? 0,
    url,
    port,
    outDir,
    output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
      }),
  };
  servers.push(server);
  return server;
}

/** Resident set size of a process in bytes (Linux /proc), or NaN where there is none. */
function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, tries = 600): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`${what}: never held (last: ${JSON.stringify(last)})`);
}

interface Stats {
  started: Record<string, number>;
  finished: Record<string, number>;
  produced: number;
  held: number;
  steps: number;
}

const stats = (s: Server = fixture): Promise<Stats> => fetch(`${s.url}/stats`).then((r) => r.json() as Promise<Stats>);
const open = (gate: string, s: Server = fixture): Promise<unknown> => post(s, "/open", { gate }).then((r) => r.json());

function post(s: Server, path: string, body: unknown, accept?: string, signal?: AbortSignal): Promise<Response> {
  return fetch(s.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** Reads a response body chunk by chunk, as text. */
class BodyReader {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private decoder = new TextDecoder();
  text = "";
  done = false;
  constructor(res: Response) {
    if (!res.body) throw new Error("no body");
    this.reader = res.body.getReader();
  }
  /** Reads until `until(text)` holds or the body ends. */
  async readUntil(until: (text: string) => boolean): Promise<string> {
    while (!until(this.text) && !this.done) {
      const { done, value } = await this.reader.read();
      if (done) this.done = true;
      else this.text += this.decoder.decode(value, { stream: true });
    }
    return this.text;
  }
  readAll(): Promise<string> {
    return this.readUntil(() => false);
  }
  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

const sseData = (text: string): unknown[] =>
  text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => JSON.parse(e.slice("data: ".length)));
const ndjson = (text: string): unknown[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

async function metricsText(s: Server): Promise<string> {
  return fetch(`${s.url}/metrics`).then((r) => r.text());
}

/** A counter or histogram series' value, summed over series whose labels contain every `labels` pair. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

beforeAll(async () => {
  fixture = await serveFixture({ BENTOC_SERVER__STREAM_HEARTBEAT_MS: "100" });
});

afterAll(async () => {
  for (const s of servers) expect(await s.stop()).toBe(0);
  for (const d of dirs) removeDir(d);
});

describe("framing", () => {
  it("sends Server-Sent Events by default, one data event per item", async () => {
    const res = await post(fixture, "/count", { n: 5 });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const text = await new BodyReader(res).readAll();
    expect(sseData(text)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(text).toMatch(/^data: \{"i":0\}\n\n/);
  });

  it("sends NDJSON when Accept names application/x-ndjson, one line per item", async () => {
    const res = await post(fixture, "/count", { n: 3 }, "application/x-ndjson");
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const text = await res.text();
    expect(text).toBe('{"i":0}\n{"i":1}\n{"i":2}\n');
  });

  it("a GET streaming API takes its input from the query; HEAD answers the head without running it", async () => {
    const res = await fetch(`${fixture.url}/ticks?n=3`, { headers: { accept: "application/x-ndjson" } });
    expect(await res.text()).toBe('{"i":0}\n{"i":1}\n{"i":2}\n');
    const head = await fetch(`${fixture.url}/ticks?n=3`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(await head.text()).toBe("");
  });

  it("an empty stream is a 200 with an empty body", async () => {
    const res = await post(fixture, "/count", { n: 0 }, "application/x-ndjson");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("invalid input is an ordinary 400 before any stream starts", async () => {
    const res = await post(fixture, "/count", { n: "many" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_input");
  });
});

describe("incremental delivery", () => {
  it("the first item arrives while the generator is still waiting for the second", async () => {
    const res = await post(fixture, "/gated", null, "application/x-ndjson");
    const body = new BodyReader(res);
    // The generator cannot go past item 0 until the gate opens: reading item 0 proves it was sent on its own.
    expect(await body.readUntil((t) => t.includes("\n"))).toBe('{"i":0}\n');
    expect(await open("gated")).toBe(true);
    expect(await body.readAll()).toBe('{"i":0}\n{"i":1}\n');
  });

  it("SSE heartbeats (comment lines) keep a quiet stream alive", async () => {
    const res = await post(fixture, "/gated", null);
    const body = new BodyReader(res);
    const text = await body.readUntil((t) => t.includes(": heartbeat\n\n"));
    expect(text.startsWith('data: {"i":0}\n\n')).toBe(true);
    await open("gated");
    expect(sseData(await body.readAll())).toEqual([{ i: 0 }, { i: 1 }]);
  });
});

describe("errors after the first item", () => {
  it("an HttpError ends an SSE stream with an error event in the catalogue's shape", async () => {
    const res = await post(fixture, "/failing", { n: 2, kind: "http" });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sseData(text)).toEqual([{ i: 0 }, { i: 1 }]);
    const event = text.split("\n\n").find((e) => e.startsWith("event: error\n"));
    expect(event).toBeDefined();
    const body = JSON.parse((event ?? "").split("\n")[1]!.slice("data: ".length)) as Record<string, unknown>;
    expect(body).toEqual({ error: "the generation budget is spent", code: "out_of_tokens", requestId: res.headers.get("x-request-id") });
  });

  it("a bug ends an NDJSON stream with an `internal` error line, no stack", async () => {
    const res = await post(fixture, "/failing", { n: 1, kind: "bug" }, "application/x-ndjson");
    const lines = ndjson(await res.text());
    expect(lines).toEqual([{ i: 0 }, { $error: { error: "Internal Server Error", code: "internal", requestId: res.headers.get("x-request-id") } }]);
  });

  it("a failure before the first item is an ordinary error response", async () => {
    const res = await post(fixture, "/failing", { n: 0, kind: "http" });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(((await res.json()) as { code: string }).code).toBe("out_of_tokens");
  });
});

describe("backpressure", () => {
  it("a paused reader pauses the generator and keeps the server's memory bounded; reading again lets it finish", async () => {
    const before = (await stats()).produced;
    const n = 50_000;
    const size = 4096; // 200 MB if nothing held the generator back
    const rssBefore = rssBytes(fixture.pid);
    const socket = net.connect(fixture.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const body = JSON.stringify({ n, size });
    socket.write(
      `POST /big HTTP/1.1\r\nhost: x\r\naccept: application/x-ndjson\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    let received = 0;
    socket.on("data", (d: Buffer) => (received += d.length));
    await eventually(
      async () => received,
      (r) => r > 0,
      "first bytes",
    );
    socket.pause();
    // The generator stops advancing while nobody reads: what it produced settles (kernel socket buffers and
    // one backend buffer), far below the 80 MB it would make unchecked.
    let previous = -1;
    const settled = await eventually(
      async () => {
        const p = (await stats()).produced - before;
        const same = p === previous;
        previous = p;
        await sleep(200);
        return same ? p : -1;
      },
      (p) => p >= 0,
      "the generator settles",
    );
    const producedBytes = settled * (size + 20);
    const rssGrowth = rssBytes(fixture.pid) - rssBefore;
    console.log(
      `backpressure: with the reader paused the generator stopped after ${settled} of ${n} items (${(producedBytes / 2 ** 20).toFixed(1)} MiB); server RSS grew ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(settled).toBeLessThan(n);
    expect(producedBytes).toBeLessThan(32 * 1024 * 1024);
    if (Number.isFinite(rssGrowth)) expect(rssGrowth).toBeLessThan(96 * 1024 * 1024);
    const started = (await stats()).started["big"] ?? 0;
    expect((await stats()).finished["big"] ?? 0).toBe(started - 1);
    // Reading again: every item arrives and the generator finishes.
    let tail = "";
    const ended = new Promise<void>((resolve) =>
      socket.on("data", (d: Buffer) => {
        tail = (tail + d.toString("latin1")).slice(-16);
        if (tail.endsWith("\r\n0\r\n\r\n")) resolve();
      }),
    );
    socket.resume();
    await ended;
    socket.destroy();
    const after = await stats();
    expect(after.produced - before).toBe(n);
    expect(after.finished["big"]).toBe(started);
  });
});

describe("cancellation", () => {
  it("a client that leaves ends the generator: its finally runs and its queued runner call leaves the queue", async () => {
    const s0 = await stats();
    // Stream A's runner call runs and holds the runner (one item per batch); stream B's call queues behind it.
    const a = new AbortController();
    const b = new AbortController();
    const resA = await post(fixture, "/holding", null, "application/x-ndjson", a.signal);
    const bodyA = new BodyReader(resA);
    await bodyA.readUntil((t) => t.includes("\n"));
    await eventually(stats, (s) => s.held === s0.held + 1, "A's call runs");
    const resB = await post(fixture, "/holding", null, "application/x-ndjson", b.signal);
    const bodyB = new BodyReader(resB);
    await bodyB.readUntil((t) => t.includes("\n"));
    const queued = await eventually(
      () => metricsText(fixture),
      (t) => metric(t, "bentoc_runner_queue_depth", { runner_name: "held" }) === 1,
      "B's call is queued",
    );
    const abortedBefore = metric(queued, "bentoc_runner_rejected_total", { runner_name: "held", reason: "aborted" });
    b.abort();
    await bodyB.cancel().catch(() => {});
    // B's queued call is rejected (aborted), so its generator throws out of the await: finally runs.
    const m = await eventually(
      () => metricsText(fixture),
      (t) => metric(t, "bentoc_runner_rejected_total", { runner_name: "held", reason: "aborted" }) === abortedBefore + 1,
      "B's queued call is aborted",
    );
    expect(metric(m, "bentoc_runner_queue_depth", { runner_name: "held" })).toBe(0);
    await eventually(stats, (s) => (s.finished["holding"] ?? 0) === (s0.finished["holding"] ?? 0) + 1, "B's finally ran");
    expect((await stats()).held).toBe(s0.held + 1); // B's call never ran
    await eventually(
      () => metricsText(fixture),
      (t) => metric(t, "bentoc_api_server_stream_total", { endpoint: "/holding", outcome: "disconnect" }) >= 1,
      "disconnect counted",
    );
    // The request it was is counted as one the client left (499).
    expect(metric(await metricsText(fixture), "bentoc_api_server_request_total", { endpoint: "/holding", http_response_code: "499" })).toBeGreaterThanOrEqual(
      1,
    );
    // A goes on once its call is released.
    await open("held");
    expect(ndjson(await bodyA.readAll())).toEqual([{ i: 0 }, { i: 1 }]);
    await eventually(stats, (s) => (s.finished["holding"] ?? 0) === (s0.finished["holding"] ?? 0) + 2, "A's finally ran");
  });

  it("closing a stream between items stops the generator (finally runs, no more items produced)", async () => {
    const s0 = await stats();
    const c = new AbortController();
    const res = await post(fixture, "/forever", null, "application/x-ndjson", c.signal);
    const body = new BodyReader(res);
    await body.readUntil((t) => t.split("\n").length > 3);
    c.abort();
    await body.cancel().catch(() => {});
    await eventually(stats, (s) => (s.finished["forever"] ?? 0) === (s0.finished["forever"] ?? 0) + 1, "finally ran");
  });
});

describe("stream limits", () => {
  it("streamMaxMs and streamIdleMs end a started stream with a stream_timeout event (finally runs); the request timeout applies only before the first item", async () => {
    // The request timeout (1 s) is shorter than the stream limit (2 s): a started stream outlives it.
    const limited = await serveFixture({ BENTOC_SERVER__STREAM_MAX_MS: "2000", BENTOC_SERVER__TIMEOUT_MS: "1000" });
    const res = await post(limited, "/forever", null);
    const text = await res.text();
    const items = sseData(text);
    const event = text.split("\n\n").find((e) => e.startsWith("event: error\n")) ?? "";
    expect(JSON.parse(event.split("\n")[1]!.slice("data: ".length))).toMatchObject({ code: "stream_timeout", detail: { limit: "streamMaxMs", ms: 2000 } });
    expect(items.length).toBeGreaterThan(1);
    expect(items).toEqual(items.map((_, i) => ({ i })));
    await eventually(
      () => stats(limited),
      (s) => s.finished["forever"] === 1,
      "finally ran",
    );
    const m = await metricsText(limited);
    expect(metric(m, "bentoc_api_server_stream_total", { endpoint: "/forever", outcome: "timeout" })).toBe(1);

    // Before its first item a stream has the request timeout: 504, and the generator is returned (once the
    // await it is in settles: its finally runs instead of it yielding to nobody).
    const slow = await post(limited, "/slow-start", null);
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { code: string }).code).toBe("timeout");
    expect((await stats(limited)).finished["slowStart"] ?? 0).toBe(0);
    expect(await open("slow-start", limited)).toBe(true);
    await eventually(
      () => stats(limited),
      (s) => s.finished["slowStart"] === 1,
      "finally ran after the timeout",
    );

    // A started stream whose generator produces nothing for streamIdleMs (here the request timeout, 1 s) ends.
    const idle = await post(limited, "/gated", null, "application/x-ndjson");
    const lines = ndjson(await idle.text());
    expect(lines).toEqual([{ i: 0 }, { $error: expect.objectContaining({ code: "stream_timeout", detail: { limit: "streamIdleMs", ms: 1000 } }) }]);
    expect(await open("gated", limited)).toBe(true);
  });
});

describe("shutdown", () => {
  it("SIGTERM lets open streams run for drain_ms, then ends them with a shutting_down event, and exits 0", async () => {
    const server = await serveFixture({ BENTOC_SERVER__DRAIN_MS: "500" });
    const res = await post(server, "/forever", null);
    const body = new BodyReader(res);
    await body.readUntil((t) => t.includes("\n\n"));
    const exited = server.stop();
    const text = await body.readAll();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)?.startsWith("event: error\n")).toBe(true);
    expect(JSON.parse(events.at(-1)!.split("\n")[1]!.slice("data: ".length))).toMatchObject({ code: "shutting_down" });
    expect(sseData(text).length).toBeGreaterThan(1);
    expect(await exited).toBe(0);
  });
});

describe("the streaming-text sample", () => {
  let sample: ServedSample;
  let home: string;
  beforeAll(async () => {
    home = await prepareHome(["streaming-text"]);
    sample = await serveSample("streaming-text", { home });
  });
  afterAll(async () => {
    expect(await sample?.stop()).toBe(0);
    if (sample) removeDir(sample.outDir);
    if (home) removeDir(home);
  });

  type Char = { index: number; char: string };
  type Client = { generate(input: { prompt: string; maxTokens?: number }, options?: { signal?: AbortSignal }): AsyncIterable<Char> };
  type ClientModule = { createClient(o: { baseUrl: string }): Client; BentocClientError: new (...a: never[]) => Error & { code: string; status: number } };

  it("the typed client streams the same deterministic text as SSE and NDJSON, and throws typed errors", async () => {
    const mod = (await import(pathToFileURL(join(sample.outDir, "client/index.js")).href)) as ClientModule;
    const client = mod.createClient({ baseUrl: sample.url });
    const got: Char[] = [];
    for await (const c of client.generate({ prompt: "the ", maxTokens: 12 })) got.push(c);
    expect(got.map((c) => c.index)).toEqual([...Array(12).keys()]);
    const text = got.map((c) => c.char).join("");
    expect(text).toMatch(/^[a-z .,!?']{12}$/);
    const server = { url: sample.url } as Server;
    const sse = sseData(await (await post(server, "/generate", { prompt: "the ", maxTokens: 12 })).text()) as Char[];
    expect(sse.map((c) => c.char).join("")).toBe(text);
    // Breaking out of the loop closes the stream.
    const partial: Char[] = [];
    for await (const c of client.generate({ prompt: "the ", maxTokens: 2000 })) {
      partial.push(c);
      if (partial.length === 3) break;
    }
    expect(partial.map((c) => c.char).join("")).toBe(text.slice(0, 3));
    const err = await (async () => {
      for await (const c of client.generate({ prompt: "NOT LOWER CASE" })) void c;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mod.BentocClientError);
    expect((err as { code: string; status: number }).code).toBe("invalid_input");
    expect((err as { status: number }).status).toBe(400);
    // An aborted signal ends the iteration with code `aborted`.
    const ac = new AbortController();
    const aborted = await (async () => {
      for await (const c of client.generate({ prompt: "a", maxTokens: 2000 }, { signal: ac.signal })) if (c.index === 2) ac.abort();
    })().catch((e: unknown) => e);
    expect((aborted as { code: string }).code).toBe("aborted");
  });

  it("concurrent streams' decode steps share batches (mean batch size > 1)", async () => {
    const mod = (await import(pathToFileURL(join(sample.outDir, "client/index.js")).href)) as ClientModule;
    const client = mod.createClient({ baseUrl: sample.url });
    const before = await fetch(`${sample.url}/metrics`).then((r) => r.text());
    const series = { runner_name: "char-rnn", method: "step" };
    const sum0 = metric(before, "bentoc_runner_adaptive_batch_size_sum", series);
    const count0 = metric(before, "bentoc_runner_adaptive_batch_size_count", series);
    const streams = 16;
    const tokens = 100;
    const texts = await Promise.all(
      Array.from({ length: streams }, async () => {
        let t = "";
        for await (const c of client.generate({ prompt: "the ", maxTokens: tokens })) t += c.char;
        return t;
      }),
    );
    expect(new Set(texts).size).toBe(1); // same prompt, same text, whatever it was batched with
    expect(texts[0]).toHaveLength(tokens);
    const after = await fetch(`${sample.url}/metrics`).then((r) => r.text());
    const items = metric(after, "bentoc_runner_adaptive_batch_size_sum", series) - sum0;
    const batches = metric(after, "bentoc_runner_adaptive_batch_size_count", series) - count0;
    // 4 prompt steps + 99 decode steps per stream; a step of a stream the previous test left may still land here.
    expect(items).toBeGreaterThanOrEqual(streams * (4 + tokens - 1));
    expect(items).toBeLessThanOrEqual(streams * (4 + tokens - 1) + 4);
    const mean = items / batches;
    console.log(`streaming-text: ${streams} concurrent streams x ${tokens} chars: ${items} steps in ${batches} batches, mean batch size ${mean.toFixed(2)}`);
    expect(mean).toBeGreaterThan(1);
    expect(metric(after, "bentoc_api_server_stream_items_total", { endpoint: "/generate" })).toBeGreaterThanOrEqual(streams * tokens);
  });

  it("the OpenAPI document describes both stream media types with the item schema", async () => {
    const doc = (await fetch(`${sample.url}/docs.json`).then((r) => r.json())) as Record<string, any>;
    const op = doc["paths"]["/generate"]["post"];
    expect(op["x-bentoc-streaming"]).toBe(true);
    const content = op["responses"]["200"]["content"];
    expect(Object.keys(content).sort()).toEqual(["application/x-ndjson", "text/event-stream"]);
    for (const media of Object.values(content) as Record<string, any>[]) {
      expect(media["x-bentoc-item-schema"]).toEqual({ $ref: "#/components/schemas/GeneratedChar" });
      expect(media["schema"]).toMatchObject({ type: "string" });
    }
    expect(doc["components"]["schemas"]["GeneratedChar"]).toMatchObject({ type: "object", required: ["index", "char"] });
  });
});
