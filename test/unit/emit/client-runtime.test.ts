/**
 * The generated client's JS (and its TS source) against a tiny node:http stub: request shape per IO
 * kind, headers, and how failures map to BentocClientError. The real uWS server is tested elsewhere.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRuntimeText } from "../../../compiler/emit/client/build-runtime-text.ts";
import { emitClient } from "../../../compiler/emit/client/emit-client.ts";
import { ALL_MANIFESTS, loadManifest } from "./load-manifests.ts";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

type Reply = { status: number; headers?: Record<string, string>; body?: string | Buffer } | "hang" | "destroy";

let server: Server;
let baseUrl: string;
let dir: string;
const seen: Seen[] = [];
const replies = new Map<string, Reply>();

type AnyClient = Record<string, (...args: any[]) => Promise<any>>;
type ClientModule = { createClient(o: unknown): AnyClient; BentocClientError: new (...a: any[]) => Error };
const modules: Record<string, ClientModule> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      const reply = replies.get(path) ?? { status: 200, headers: { "content-type": "application/json" }, body: "{}" };
      if (reply === "hang") return; // never answers: the client's timeout or signal must end it
      if (reply === "destroy") return req.socket.destroy();
      res.writeHead(reply.status, { "x-request-id": "req-1", ...reply.headers });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  dir = mkdtempSync(join(tmpdir(), "bentoc-client-run-"));
  for (const name of ["support-tickets", "edge-cases"] as const) {
    const files = emitClient(await loadManifest(name));
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, "client"), { recursive: true });
      writeFileSync(join(dir, name, rel), content);
    }
    modules[`${name}:js`] = (await import(pathToFileURL(join(dir, name, "client/index.js")).href)) as ClientModule;
    modules[`${name}:ts`] = (await import(pathToFileURL(join(dir, name, "client/index.ts")).href)) as ClientModule;
  }
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function last(): Seen {
  const s = seen[seen.length - 1];
  if (!s) throw new Error("no request seen");
  return s;
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

it("runtime-text.ts is up to date with client-runtime.ts", () => {
  const current = readFileSync(new URL("../../../compiler/emit/client/runtime-text.ts", import.meta.url), "utf8");
  expect(current).toBe(renderRuntimeText());
});

it("emitting twice yields identical files", async () => {
  for (const name of ALL_MANIFESTS) {
    expect(emitClient(await loadManifest(name))).toEqual(emitClient(await loadManifest(name)));
  }
  const pkg = JSON.parse(emitClient(await loadManifest("support-tickets"))["client/package.json"] ?? "");
  expect(pkg).toMatchObject({
    name: "@bentoc-client/support-tickets",
    version: "1.0.0",
    type: "module",
    dependencies: {},
    exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
  });
});

describe.each(["js", "ts"])("generated client (%s)", (flavour) => {
  const tickets = () => modules[`support-tickets:${flavour}`] as ClientModule;
  const edge = () => modules[`edge-cases:${flavour}`] as ClientModule;

  it("json: POSTs the input with content type, accept and merged headers; returns the parsed body", async () => {
    const result = { results: [{ label: "billing", score: 1, scores: { billing: 1, bug: 0, account: 0, other: 0 } }] };
    replies.set("/classify", json(200, result));
    const client = tickets().createClient({ baseUrl, headers: { authorization: "Bearer t", "x-a": "1" } });
    const out = await client["classify"]!({ texts: ["charged twice"] }, { headers: { "x-a": "2" } });
    expect(out).toEqual(result);
    const req = last();
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/classify");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["accept"]).toBe("application/json");
    expect(req.headers["authorization"]).toBe("Bearer t");
    expect(req.headers["x-a"]).toBe("2");
    expect(JSON.parse(req.body.toString())).toEqual({ texts: ["charged twice"] });
  });

  it("text input and GET without input", async () => {
    replies.set("/classify-text", json(200, { label: "bug", score: 1, scores: {} }));
    const client = tickets().createClient({ baseUrl: `${baseUrl}/` });
    await client["classifyText"]!("it crashes");
    expect(last().headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(last().body.toString()).toBe("it crashes");
    replies.set("/labels", json(200, ["billing", "bug"]));
    expect(await client["labels"]!()).toEqual(["billing", "bug"]);
    expect(last().method).toBe("GET");
    expect(last().body.length).toBe(0);
    expect(last().headers["content-type"]).toBeUndefined();
  });

  it("server errors become BentocClientError with status, body and request id", async () => {
    const body = { error: "invalid input: /texts/0 too short", code: "invalid_input", detail: [{ path: "/texts/0", message: "too short" }], requestId: "r-42" };
    replies.set("/classify", json(400, body));
    const client = tickets().createClient({ baseUrl });
    const err = await client["classify"]!({ texts: [""] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(tickets().BentocClientError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: "BentocClientError", status: 400, body, requestId: "r-42", code: "invalid_input", message: body.error });
    replies.set("/classify", { status: 502, headers: { "content-type": "text/html" }, body: "<h1>bad gateway</h1>" });
    const proxy = await client["classify"]!({ texts: ["x"] }).catch((e: unknown) => e);
    expect(proxy).toMatchObject({ status: 502, requestId: "req-1", body: { code: "http_502", detail: "<h1>bad gateway</h1>", requestId: "req-1" } });
  });

  it("network failures, timeouts and aborts are BentocClientError with status 0", async () => {
    const Err = tickets().BentocClientError;
    replies.set("/classify", "destroy");
    const dropped = await tickets().createClient({ baseUrl })["classify"]!({ texts: ["x"] }).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(Err);
    expect(dropped).toMatchObject({ status: 0, code: "network_error", requestId: "" });

    replies.set("/classify", "hang");
    const timedOut = await tickets().createClient({ baseUrl, timeoutMs: 50 })["classify"]!({ texts: ["x"] }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(Err);
    expect(timedOut).toMatchObject({ status: 0, code: "timeout" });

    const controller = new AbortController();
    const before = seen.length;
    const pending = tickets().createClient({ baseUrl })["classify"]!({ texts: ["x"] }, { signal: controller.signal }).catch((e: unknown) => e);
    while (seen.length === before) await new Promise((r) => setImmediate(r)); // the server holds the request
    controller.abort();
    expect(await pending).toMatchObject({ status: 0, code: "aborted" });

    const refused = await tickets().createClient({ baseUrl: "http://127.0.0.1:1" })["labels"]!().catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 0, code: "network_error" });
    replies.delete("/classify");
  });

  it("a custom fetch is used, called as a plain function", async () => {
    const calls: string[] = [];
    const client = tickets().createClient({
      baseUrl: "http://example.invalid/api",
      fetch: async (url: string, init: RequestInit) => {
        calls.push(`${init.method} ${url}`);
        return new Response(JSON.stringify(["other"]), { status: 200, headers: { "content-type": "application/json" } });
      },
    });
    expect(await client["labels"]!()).toEqual(["other"]);
    expect(calls).toEqual(["GET http://example.invalid/api/labels"]);
  });

  it("ndarray, image, file, multipart, query and null bodies are shaped per descriptor", async () => {
    const client = edge().createClient({ baseUrl });
    replies.set("/scale", json(200, { dtype: "int64", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }));
    const scaled = await client["scale"]!({ dtype: "float32", shape: [2], data: new Float32Array([1.5, 2]) });
    expect(scaled.shape).toEqual([2, 3]);
    expect(JSON.parse(last().body.toString())).toEqual({ dtype: "float32", shape: [2], data: [1.5, 2] });
    expect(last().headers["content-type"]).toBe("application/json");

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    replies.set("/thumbnail", { status: 200, headers: { "content-type": "image/png" }, body: Buffer.from(png) });
    const thumb = await client["thumbnail"]!(png);
    expect(last().headers["content-type"]).toBe("image/png");
    expect(last().headers["accept"]).toBe("image/png");
    expect([...last().body]).toEqual([...png]);
    expect(thumb).toBeInstanceOf(Blob);
    expect(thumb.type).toBe("image/png");
    expect(new Uint8Array(await thumb.arrayBuffer())).toEqual(png);
    await client["thumbnail"]!(new Blob([png], { type: "image/webp" }));
    expect(last().headers["content-type"]).toBe("image/webp");

    replies.set("/convert", { status: 200, headers: { "content-type": "text/csv" }, body: "a,b\n" });
    const converted = await client["convert"]!(new Uint8Array([37, 80, 68, 70]).buffer);
    expect(last().headers["content-type"]).toBe("application/pdf");
    expect(last().body.toString()).toBe("%PDF");
    expect(await converted.text()).toBe("a,b\n");

    replies.set("/annotate", json(200, { ok: true, parts: ["photo"] }));
    await client["annotate"]!({
      photo: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
      meta: { author: "ann" },
      note: "hello",
      weights: { dtype: "float32", shape: [2], data: [0.5, 1] },
    });
    const multipart = last();
    expect(multipart.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
    const text = multipart.body.toString("latin1");
    expect(text).toMatch(/name="photo"; filename="photo"\r\nContent-Type: image\/jpeg\r\n\r\n\xff\xd8\xff\xe0\r\n/);
    expect(text).toMatch(/name="meta"; filename="meta.json"\r\nContent-Type: application\/json\r\n\r\n\{"author":"ann"\}\r\n/);
    expect(text).toMatch(/name="note"\r\n\r\nhello\r\n/);
    expect(text).toMatch(
      /name="weights"; filename="weights.json"\r\nContent-Type: application\/json\r\n\r\n\{"dtype":"float32","shape":\[2\],"data":\[0.5,1\]\}\r\n/,
    );
    expect(text).not.toContain('name="attachment"');

    replies.set("/search", json(200, []));
    await client["search"]!({ q: "red shoes", limit: 3, priority: undefined });
    expect(last().method).toBe("GET");
    expect(last().url).toBe("/search?q=red+shoes&limit=3");

    replies.set("/ping", json(200, null));
    expect(await client["ping"]!()).toBeNull();
    expect(last().method).toBe("POST");
    expect(last().body.length).toBe(0);

    replies.set("/shout", { status: 200, headers: { "content-type": "text/plain" }, body: "HELLO" });
    expect(await client["shout"]!("hello")).toBe("HELLO");
    expect(last().headers["accept"]).toBe("text/plain");

    replies.set("/orders", { status: 200, headers: { "content-type": "application/json" }, body: "{not json" });
    const bad = await client["submitOrder"]!({}).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(edge().BentocClientError);
    expect(bad).toMatchObject({ status: 200, code: "invalid_response" });
  });
});
