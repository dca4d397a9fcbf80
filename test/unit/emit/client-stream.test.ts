/**
 * The generated client's streaming methods (streaming-text's `generate`): the records of an NDJSON or
 * SSE body are parsed whatever the chunk boundaries, error events and `$error` lines reject with a
 * BentocClientError, comments are skipped, and leaving the loop aborts the request. The bodies come from
 * the client's own `fetch` option (a `Response` over a ReadableStream of the given chunks).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitClient } from "../../../compiler/emit/client/emit-client.ts";
import { loadManifest } from "./load-manifests.ts";

type Item = { index: number; char: string };
type Client = { generate(input: { prompt: string }, options?: { signal?: AbortSignal }): AsyncIterable<Item> };
type ClientModule = {
  createClient(o: { baseUrl: string; fetch: (url: string, init: RequestInit) => Promise<Response> }): Client;
  BentocClientError: new (...a: never[]) => Error & { status: number; code: string; body: Record<string, unknown> };
};

let dir: string;
let mod: ClientModule;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bentoc-client-stream-"));
  const files = emitClient(await loadManifest("streaming-text"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mod = (await import(pathToFileURL(join(dir, "client/index.js")).href)) as ClientModule;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Call {
  init: RequestInit;
  cancelled: boolean;
}

/** A client whose fetch answers with `chunks` as the body, one read per chunk. */
function clientOf(contentType: string, chunks: string[], status = 200): { client: Client; calls: Call[] } {
  const calls: Call[] = [];
  const fetch = async (_url: string, init: RequestInit): Promise<Response> => {
    const call: Call = { init, cancelled: false };
    calls.push(call);
    const encoder = new TextEncoder();
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
        else controller.close();
      },
      cancel() {
        call.cancelled = true;
      },
    });
    init.signal?.addEventListener("abort", () => (call.cancelled = true));
    return new Response(body, { status, headers: { "content-type": contentType, "x-request-id": "r-1" } });
  };
  return { client: mod.createClient({ baseUrl: "http://service", fetch }), calls };
}

async function collect(it: AsyncIterable<Item>): Promise<Item[]> {
  const out: Item[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("the generated client's streaming methods", () => {
  it("asks for NDJSON, posts JSON, and parses lines split across chunks", async () => {
    const { client, calls } = clientOf("application/x-ndjson", ['{"index":0,"ch', 'ar":"a"}\n{"index":1,"char":"b"}\n{"ind', 'ex":2,"char":"c"}']);
    expect(await collect(client.generate({ prompt: "x" }))).toEqual([
      { index: 0, char: "a" },
      { index: 1, char: "b" },
      { index: 2, char: "c" },
    ]);
    const headers = new Headers(calls[0]?.init.headers);
    expect(headers.get("accept")).toBe("application/x-ndjson");
    expect(calls[0]?.init.method).toBe("POST");
    expect(calls[0]?.init.body).toBe('{"prompt":"x"}');
  });

  it("sends nothing until iteration starts", async () => {
    const { client, calls } = clientOf("application/x-ndjson", []);
    const it = client.generate({ prompt: "x" });
    expect(calls).toHaveLength(0);
    expect(await collect(it)).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it("parses Server-Sent Events: data lines, CRLF, comments and heartbeats skipped", async () => {
    const { client } = clientOf("text/event-stream; charset=utf-8", [
      'data: {"index":0,"char":"a"}\n',
      "\n: heartbeat\n\n",
      'data: {"index":1,\r\ndata: "char":"b"}\r\n\r\n',
    ]);
    expect(await collect(client.generate({ prompt: "x" }))).toEqual([
      { index: 0, char: "a" },
      { index: 1, char: "b" },
    ]);
  });

  it("an SSE error event rejects with the server's error body after the items before it", async () => {
    const { client } = clientOf("text/event-stream", [
      'data: {"index":0,"char":"a"}\n\n',
      'event: error\ndata: {"error":"no item within 10 ms","code":"stream_timeout","requestId":"r-1"}\n\n',
    ]);
    const got: Item[] = [];
    const err = await (async () => {
      for await (const x of client.generate({ prompt: "x" })) got.push(x);
    })().catch((e: unknown) => e);
    expect(got).toEqual([{ index: 0, char: "a" }]);
    expect(err).toBeInstanceOf(mod.BentocClientError);
    expect((err as { code: string }).code).toBe("stream_timeout");
    expect((err as { body: unknown }).body).toEqual({ error: "no item within 10 ms", code: "stream_timeout", requestId: "r-1" });
  });

  it("an NDJSON $error line rejects with its body", async () => {
    const { client } = clientOf("application/x-ndjson", [
      '{"index":0,"char":"a"}\n{"$error":{"error":"Internal Server Error","code":"internal","requestId":"r-1"}}\n',
    ]);
    const err = await collect(client.generate({ prompt: "x" })).catch((e: unknown) => e);
    expect((err as { code: string; status: number }).code).toBe("internal");
  });

  it("an error status before the stream rejects like any call", async () => {
    const { client } = clientOf("application/json", ['{"error":"bad","code":"invalid_input","requestId":"r-1"}'], 400);
    const err = await collect(client.generate({ prompt: "x" })).catch((e: unknown) => e);
    expect((err as { status: number; code: string }).status).toBe(400);
    expect((err as { code: string }).code).toBe("invalid_input");
  });

  it("an item that is not JSON rejects with invalid_response", async () => {
    const { client } = clientOf("application/x-ndjson", ["not json\n"]);
    const err = await collect(client.generate({ prompt: "x" })).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe("invalid_response");
  });

  it("leaving the loop early aborts the request", async () => {
    const { client, calls } = clientOf("application/x-ndjson", ['{"index":0,"char":"a"}\n', '{"index":1,"char":"b"}\n', '{"index":2,"char":"c"}\n']);
    for await (const x of client.generate({ prompt: "x" })) if (x.index === 0) break;
    expect(calls[0]?.cancelled).toBe(true);
  });
});
