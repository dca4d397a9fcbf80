/**
 * The real server on a free port, sent bad input of every kind: each answer has the right status and the
 * one error body `{ error, code, detail?, requestId }`, and the request id matches the header.
 */

import pngjs from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeResponse, parseRawResponse, rawExchange } from "../fixtures/runtime/raw-http.ts";
import { type EchoServer, eventually, startEcho } from "../fixtures/runtime/start-echo.ts";

let echo: EchoServer;
const MAX_BODY = 4096;

beforeAll(async () => {
  echo = await startEcho({ maxBodyBytes: MAX_BODY, timeoutMs: 1500, maxConcurrency: 4, cors: { enabled: true, origins: ["http://app.example"] } });
});
afterAll(async () => {
  await echo?.served.shutdown();
});

async function post(path: string, body: BodyInit | undefined, contentType?: string, headers: Record<string, string> = {}) {
  const res = await fetch(echo.url + path, {
    method: "POST",
    body: body ?? null,
    headers: { ...(contentType ? { "content-type": contentType } : {}), ...headers },
  });
  const text = await res.text();
  return { res, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

function expectErrorShape(body: Record<string, unknown>, res: Response, code: string): void {
  expect(body["code"]).toBe(code);
  expect(typeof body["error"]).toBe("string");
  expect(body["requestId"]).toBe(res.headers.get("x-request-id"));
  expect(Object.keys(body).every((k) => ["error", "code", "detail", "requestId"].includes(k))).toBe(true);
}

describe("bad input", () => {
  it("malformed JSON is 400 malformed_body", async () => {
    const r = await post("/greet", '{"name": "x",', "application/json");
    expect(r.res.status).toBe(400);
    expectErrorShape(r.json(), r.res, "malformed_body");
  });

  it("wrong types name the field and why", async () => {
    const r = await post("/greet", JSON.stringify({ name: 42, times: "many" }), "application/json");
    expect(r.res.status).toBe(400);
    const body = r.json();
    expectErrorShape(body, r.res, "invalid_input");
    expect(body["detail"]).toEqual(
      expect.arrayContaining([
        { path: "/name", message: "must be string" },
        { path: "/times", message: "must be number" },
      ]),
    );
  });

  it("missing and unknown fields", async () => {
    const r = await post("/greet", JSON.stringify({ nam: "typo" }), "application/json");
    expect(r.res.status).toBe(400);
    expect(r.json()["detail"]).toEqual(
      expect.arrayContaining([
        { path: "/name", message: "is required" },
        { path: "/nam", message: "is not allowed" },
      ]),
    );
  });

  it("an empty body where JSON is required", async () => {
    const r = await post("/greet", undefined, "application/json");
    expect(r.res.status).toBe(400);
    expectErrorShape(r.json(), r.res, "malformed_body");
  });

  it("wrong content type is 415", async () => {
    const r = await post("/greet", "name=x", "application/x-www-form-urlencoded");
    expect(r.res.status).toBe(415);
    expectErrorShape(r.json(), r.res, "unsupported_media_type");
    const t = await post("/shout", "hé", "text/plain; charset=latin1");
    expect(t.res.status).toBe(415);
  });

  it("a body over the limit by Content-Length is 413 without reading it", async () => {
    const raw = await rawExchange(echo.port, `POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n{`, {
      until: completeResponse,
    });
    const r = parseRawResponse(raw);
    expect(r?.status).toBe(413);
    expect(JSON.parse(r?.body ?? "{}").code).toBe("payload_too_large");
  });

  it("a chunked body is cut off with 413 as soon as it passes the limit", async () => {
    const chunk = "a".repeat(MAX_BODY + 10);
    // The body never ends (no terminating chunk): the 413 must come from the bytes seen so far.
    const raw = await rawExchange(
      echo.port,
      `POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      { until: completeResponse },
    );
    expect(parseRawResponse(raw)?.status).toBe(413);
  });

  it("unknown route is 404, wrong method is 405 with Allow", async () => {
    const nf = await post("/nope", "{}", "application/json");
    expect(nf.res.status).toBe(404);
    expectErrorShape(nf.json(), nf.res, "not_found");
    const wm = await fetch(`${echo.url}/greet`);
    expect(wm.status).toBe(405);
    expect(wm.headers.get("allow")).toBe("POST, OPTIONS");
    expectErrorShape((await wm.json()) as Record<string, unknown>, wm, "method_not_allowed");
    const wm2 = await post("/version", "{}", "application/json");
    expect(wm2.res.status).toBe(405);
    expect(wm2.res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("a handler that throws is 500 without its message or stack, logged with the request id", async () => {
    const r = await post("/boom", "{}", "application/json", { "x-request-id": "boom-1" });
    expect(r.res.status).toBe(500);
    expect(r.text).not.toContain("secret");
    expect(r.text).not.toContain("at ");
    expect(r.json()).toEqual({ error: "Internal Server Error", code: "internal", requestId: "boom-1" });
    await eventually(() =>
      echo.logs.some((l) => l["level"] === "error" && l["requestId"] === "boom-1" && JSON.stringify(l).includes("secret internal detail")),
    );
  });

  it("an HttpError thrown on purpose keeps its status, code and detail", async () => {
    const r = await post("/boom", JSON.stringify({ kind: "http" }), "application/json");
    expect(r.res.status).toBe(409);
    expect(r.json()).toMatchObject({ error: "already there", code: "conflict", detail: { id: 1 } });
  });

  it("a client that disconnects mid-body is dropped; the server carries on", async () => {
    await rawExchange(
      echo.port,
      `POST /greet HTTP/1.1\r\nHost: x\r\nx-request-id: gone-1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":`,
      {
        onSocket: (s) => setImmediate(() => s.destroy()),
      },
    );
    await eventually(() => echo.logs.some((l) => l["requestId"] === "gone-1" && l["status"] === 499));
    await eventually(() => echo.served.server?.inflight === 0);
    expect((await fetch(`${echo.url}/livez`)).status).toBe(200);
    const ok = await post("/greet", JSON.stringify({ name: "after" }), "application/json");
    expect(ok.res.status).toBe(200);
  });

  it("a body that never completes is 408; a handler over the timeout is 504 and its signal aborts", async () => {
    const raw = await rawExchange(echo.port, `POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`, {
      until: completeResponse,
    });
    expect(parseRawResponse(raw)?.status).toBe(408);
    const r = await post("/slow", JSON.stringify({ ms: 60_000 }), "application/json", { "x-request-id": "slow-1" });
    expect(r.res.status).toBe(504);
    expectErrorShape(r.json(), r.res, "timeout");
  });

  it("over maxConcurrency is 429", async () => {
    const slow = Array.from({ length: 4 }, () => post("/slow", JSON.stringify({ ms: 800 }), "application/json"));
    await eventually(() => (echo.served.server?.inflight ?? 0) >= 4);
    const r = await post("/greet", JSON.stringify({ name: "x" }), "application/json");
    expect(r.res.status).toBe(429);
    expectErrorShape(r.json(), r.res, "too_many_requests");
    expect((await Promise.all(slow)).map((s) => s.res.status)).toEqual([200, 200, 200, 200]);
  });

  it("bad ndarrays, images and multipart bodies are 400/415, never 500", async () => {
    const shape = await post("/scale", JSON.stringify({ dtype: "float32", shape: [2, 3], data: [1, 2, 3] }), "application/json");
    expect(shape.res.status).toBe(400);
    expect(shape.json()["detail"]).toEqual([{ path: "/data", message: "has 3 elements but shape [2, 3] needs 6" }]);
    const dims = await post("/scale", JSON.stringify({ dtype: "float32", shape: [1, 4], data: [1, 2, 3, 4] }), "application/json");
    expect(dims.json()["detail"]).toEqual([{ path: "/shape/1", message: "must be 3, got 4" }]);
    const dtype = await post("/scale", new Uint8Array(12), "application/octet-stream", { "x-dtype": "int32", "x-shape": "1,3" });
    expect(dtype.res.status).toBe(400);
    const corrupt = await post(
      "/image-size",
      new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)])),
      "image/png",
    );
    expect(corrupt.res.status).toBe(400);
    const gif = await post("/image-size", "GIF89a....", "image/gif");
    expect(gif.res.status).toBe(415);
    const mp = await post("/upload", "--zz\r\nnonsense", "multipart/form-data; boundary=zz");
    expect(mp.res.status).toBe(400);
    const fd = new FormData();
    fd.set("meta", JSON.stringify({ name: 5 }));
    const missing = await fetch(`${echo.url}/upload`, { method: "POST", body: fd });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { detail: unknown }).detail).toEqual([{ path: "/doc", message: "is required" }]);
  });

  it("GET query input is validated and coerced", async () => {
    const ok = await fetch(`${echo.url}/search?q=tea&limit=7`);
    expect(await ok.json()).toEqual({ q: "tea", limit: 7 });
    const bad = await fetch(`${echo.url}/search?limit=abc`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: unknown }).detail).toEqual(
      expect.arrayContaining([
        { path: "/q", message: "is required" },
        { path: "/limit", message: "must be integer" },
      ]),
    );
  });
});

describe("good input through every codec", () => {
  it("json, text (through the runner), ndarray JSON and binary, image, file, multipart", async () => {
    expect((await post("/greet", JSON.stringify({ name: "ann", times: 2 }), "application/json")).json()).toEqual({ message: "hello annhello ann", tags: [] });
    expect((await post("/shout", "quiet please", "text/plain")).text).toBe("QUIET PLEASE");
    expect((await post("/scale", JSON.stringify({ dtype: "float32", shape: [1, 3], data: [[1, 2, 3.5]] }), "application/json")).json()).toEqual({
      dtype: "float32",
      shape: [1, 3],
      data: [2, 4, 7],
    });
    const bin = await fetch(`${echo.url}/scale`, {
      method: "POST",
      body: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
      headers: { "content-type": "application/octet-stream", "x-dtype": "float32", "x-shape": "2,3", accept: "application/octet-stream" },
    });
    expect(bin.headers.get("x-shape")).toBe("2,3");
    expect(Array.from(new Float32Array(await bin.arrayBuffer()))).toEqual([2, 4, 6, 8, 10, 12]);

    const png = new pngjs.PNG({ width: 3, height: 2 });
    png.data.fill(0);
    png.data.set([10, 20, 30, 255], 0);
    const img = await post("/image-size", new Uint8Array(pngjs.PNG.sync.write(png)), "image/png");
    expect(img.json()).toEqual({ width: 3, height: 2, format: "png", firstPixel: [10, 20, 30, 255] });

    const file = await post("/file-info", new Uint8Array(7), "application/pdf", { "x-filename": "a.pdf" });
    expect(file.res.headers.get("content-type")).toBe("text/plain");
    expect(file.text).toBe("application/pdf 7 a.pdf");

    const fd = new FormData();
    fd.set("meta", JSON.stringify({ name: "m" }));
    fd.set("note", "hi");
    fd.set("doc", new Blob([new Uint8Array(10)]), "a.bin");
    expect(await (await fetch(`${echo.url}/upload`, { method: "POST", body: fd })).json()).toEqual({ name: "m", note: "hi", docBytes: 10 });
  });

  it("request ids, context, CORS, access log", async () => {
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const r = await post("/whoami", undefined, undefined, { "x-request-id": "rid-42", "x-agent": "tester", traceparent: tp, origin: "http://app.example" });
    expect(r.res.headers.get("x-request-id")).toBe("rid-42");
    expect(r.res.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(r.json()).toEqual({ requestId: "rid-42", traceparent: tp, agent: "tester", pid: process.pid });
    const other = await post("/whoami", undefined, undefined, { origin: "http://evil.example" });
    expect(other.res.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(`${echo.url}/greet`, { method: "OPTIONS", headers: { origin: "http://app.example", "access-control-request-method": "POST" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    await eventually(() =>
      echo.logs.some(
        (l) =>
          l["msg"] === "request" &&
          l["requestId"] === "rid-42" &&
          l["status"] === 200 &&
          l["path"] === "/whoami" &&
          typeof l["durationMs"] === "number" &&
          l["traceId"] === "0af7651916cd43dd8448eb211c80319c",
      ),
    );
  });

  it("health, docs and metrics endpoints", async () => {
    expect((await fetch(`${echo.url}/livez`)).status).toBe(200);
    const ready = await fetch(`${echo.url}/readyz`);
    expect(ready.status).toBe(200);
    const docs = await fetch(`${echo.url}/docs`);
    expect(await docs.text()).toContain("/docs/swagger-ui-bundle.js");
    const bundle = await fetch(`${echo.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${echo.url}/docs/../package.json`)).status).toBe(404);
    const spec = (await (await fetch(`${echo.url}/docs.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\.1/);
    expect(Object.keys(spec.paths)).toContain("/greet");
    const metrics = await fetch(`${echo.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
  });
});
