/**
 * The HTTP layer's contract, one suite run against every backend (the Hono way): a tiny route table over
 * `createHttpServer` on the real uWebSockets.js and node:http transports, driven with real sockets.
 *
 * Where uWS 20.30's native parser decides before JavaScript sees the request (HTTP/1.0, a malformed or
 * oversized head), the backends differ: node:http answers the catalogue's 400/431, uWS closes the
 * connection without an answer. Those cases assert each backend's documented behaviour (docs/http.md)
 * and that the server keeps serving.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MethodNotAllowed, NotFound, ServiceUnavailable, TooManyRequests } from "../../runtime/errors/http-errors.ts";
import { readBody } from "../../runtime/http/body-reader.ts";
import { createCorsPolicy } from "../../runtime/http/cors.ts";
import { createTransport } from "../../runtime/http/create-transport.ts";
import { createHttpServer, type HttpServer, type RouteHandler } from "../../runtime/http/http-server.ts";
import { type HttpBackendName, probeUws } from "../../runtime/http/select-backend.ts";
import { PortInUseError } from "../../runtime/http/transport.ts";
import { createLogger } from "../../runtime/logging/logger.ts";
import { noopTelemetry } from "../../runtime/observability/telemetry.ts";
import { completeResponse, parseRawResponse, rawExchange } from "../fixtures/runtime/raw-http.ts";

const MAX_BODY = 1024;
const TIMEOUT_MS = 600;
const ORIGIN = "http://app.example";

const backends: HttpBackendName[] = ["node"];
if (probeUws().module) backends.push("uws");
else if (process.env["CI"] === "true" && process.versions.modules === "115") throw new Error(`uWebSockets.js must load on Node 20 in CI: ${probeUws().detail}`);

interface Started {
  server: HttpServer;
  port: number;
  /** What the /slow handler saw: its signal's abort reason, by request id. */
  aborted: Map<string, string>;
  logs: Record<string, unknown>[];
}

async function start(backend: HttpBackendName): Promise<Started> {
  const aborted = new Map<string, string>();
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    write: (t) =>
      t.split("\n").forEach((l) => {
        if (l) logs.push(JSON.parse(l) as Record<string, unknown>);
      }),
  });
  const routes: Record<string, Record<string, RouteHandler>> = {
    "/hello": { GET: (ex) => ex.json(200, { hello: "world" }) },
    "/echo": {
      POST: (ex) =>
        readBody(ex, MAX_BODY, true, (body) => {
          ex.countAs("/echo", undefined);
          ex.send(200, "application/octet-stream", body);
        }),
    },
    "/slow": {
      POST: (ex, req) => {
        const ms = Number(new URLSearchParams(req.query).get("ms") ?? 0);
        readBody(ex, MAX_BODY, false, () => {
          const signal = ex.signal();
          signal.addEventListener("abort", () => aborted.set(ex.requestId, String((signal.reason as Error)?.message ?? signal.reason)));
          setTimeout(() => ex.json(200, { slept: ms }), ms);
        });
      },
    },
    "/busy": { GET: (ex) => ex.fail(new TooManyRequests()) },
    "/unavailable": { GET: (ex) => ex.fail(new ServiceUnavailable("queue full", "overloaded")) },
  };
  const { transport } = createTransport(backend, { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 2000 });
  const server = createHttpServer({
    transport,
    logger,
    metrics: noopTelemetry,
    timeoutMs: TIMEOUT_MS,
    maxBodyBytes: MAX_BODY,
    cors: createCorsPolicy({ enabled: true, origins: [ORIGIN] }),
    accessLog: () => "info",
    router: {
      route(method, path) {
        const byMethod = routes[path];
        if (!byMethod) return new NotFound(`no route for ${method} ${path}`);
        return byMethod[method] ?? new MethodNotAllowed(Object.keys(byMethod));
      },
    },
  });
  const port = await server.listen({ host: "127.0.0.1", port: 0, exclusive: true });
  return { server, port, aborted, logs };
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/** Every complete response in `text`, in order. */
function responses(text: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out = [];
  let rest = text;
  while (completeResponse(rest)) {
    const end = rest.indexOf("\r\n\r\n");
    const m = /\r\ncontent-length: *(\d+)/i.exec(rest.slice(0, end));
    const len = m ? Number(m[1]) : 0;
    const r = parseRawResponse(rest.slice(0, end + 4 + len));
    if (!r) break;
    out.push(r);
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

async function healthy(port: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/hello`);
  expect(r.status).toBe(200);
}

describe.each(backends)("HTTP contract on %s", (backend) => {
  let s: Started;
  beforeAll(async () => {
    s = await start(backend);
  });
  afterAll(() => s?.server.close());

  describe("routing", () => {
    it("answers a route, 404 an unknown path and 405 a wrong method with Allow, all in the catalogue's body", async () => {
      const ok = await fetch(`http://127.0.0.1:${s.port}/hello`);
      expect(await ok.json()).toEqual({ hello: "world" });
      expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
      const nf = await fetch(`http://127.0.0.1:${s.port}/nope`, { headers: { "x-request-id": "rid-1" } });
      expect(nf.status).toBe(404);
      expect(await nf.json()).toEqual({ error: "no route for GET /nope", code: "not_found", requestId: "rid-1" });
      const wm = await fetch(`http://127.0.0.1:${s.port}/hello`, { method: "DELETE" });
      expect(wm.status).toBe(405);
      expect(wm.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(((await wm.json()) as { code: string }).code).toBe("method_not_allowed");
      // A trailing slash is the same route.
      expect((await fetch(`http://127.0.0.1:${s.port}/hello/`)).status).toBe(200);
    });

    it("answers HEAD like GET without a body, and OPTIONS with Allow", async () => {
      const raw = await rawExchange(s.port, `HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n`, { until: (t) => t.includes("\r\n\r\n"), idleMs: 2000 });
      const head = parseRawResponse(raw)!;
      expect(head.status).toBe(200);
      expect(head.headers["content-length"]).toBe(String(JSON.stringify({ hello: "world" }).length));
      expect(head.body).toBe("");
      const opt = await fetch(`http://127.0.0.1:${s.port}/echo`, { method: "OPTIONS" });
      expect(opt.status).toBe(204);
      expect(opt.headers.get("allow")).toBe("POST, OPTIONS");
    });

    it("CORS: an allowed origin gets the headers and a preflight answer; another origin gets none", async () => {
      const pre = await fetch(`http://127.0.0.1:${s.port}/echo`, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST" } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(pre.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
      const ok = await fetch(`http://127.0.0.1:${s.port}/hello`, { headers: { origin: ORIGIN } });
      expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect(ok.headers.get("access-control-expose-headers")).toContain("x-request-id");
      const other = await fetch(`http://127.0.0.1:${s.port}/hello`, { headers: { origin: "http://evil.example" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    });
  });

  describe("bodies and limits", () => {
    it("reads a body whole, in one chunk or many (chunked)", async () => {
      const r = await fetch(`http://127.0.0.1:${s.port}/echo`, { method: "POST", body: "x".repeat(900) });
      expect(await r.text()).toBe("x".repeat(900));
      const raw = await rawExchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`, {
        until: completeResponse,
      });
      expect(parseRawResponse(raw)!.body).toBe("abcde");
    });

    it("413 by Content-Length without reading the body, and as soon as a chunked body passes the limit", async () => {
      const byLength = parseRawResponse(
        await rawExchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n{`, { until: completeResponse }),
      )!;
      expect(byLength.status).toBe(413);
      expect(JSON.parse(byLength.body).code).toBe("payload_too_large");
      const chunk = "a".repeat(MAX_BODY + 10);
      const chunked = await rawExchange(
        s.port,
        `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n`,
        { until: completeResponse },
      );
      expect(parseRawResponse(chunked)!.status).toBe(413);
    });

    it("400 for a duplicate or conflicting Content-Length (the body is not framed by either)", async () => {
      for (const lengths of [
        ["3", "3"],
        ["3", "5"],
      ]) {
        const raw = await rawExchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${lengths[0]}\r\nContent-Length: ${lengths[1]}\r\n\r\nabcde`, {
          until: completeResponse,
          idleMs: 3000,
        });
        const r = parseRawResponse(raw);
        expect(r?.status).toBe(400);
        expect(JSON.parse(r!.body).code).toBe("bad_request");
      }
      await healthy(s.port);
    });
  });

  describe("timeouts and aborts", () => {
    it("408 when the body does not arrive in time; 504 when the handler takes too long, and its signal aborts", async () => {
      const raw = await rawExchange(s.port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{`, { until: completeResponse });
      const r = parseRawResponse(raw)!;
      expect(r.status).toBe(408);
      expect(JSON.parse(r.body).code).toBe("request_timeout");
      const slow = await fetch(`http://127.0.0.1:${s.port}/slow?ms=5000`, { method: "POST", body: "{}", headers: { "x-request-id": "slow-1" } });
      expect(slow.status).toBe(504);
      expect(((await slow.json()) as { code: string }).code).toBe("timeout");
      expect(s.aborted.get("slow-1")).toMatch(/did not complete within/);
    });

    it("a client that goes away aborts its request's signal and is logged as 499", async () => {
      await rawExchange(s.port, post("/slow?ms=400", "{}", "x-request-id: gone-1\r\n"), { onSocket: (sock) => setTimeout(() => sock.destroy(), 100) });
      for (let i = 0; i < 100 && !s.aborted.has("gone-1"); i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.aborted.get("gone-1")).toBe("client disconnected");
      for (let i = 0; i < 100 && !s.logs.some((l) => l["requestId"] === "gone-1"); i++) await new Promise((r) => setTimeout(r, 10));
      expect(s.logs.find((l) => l["requestId"] === "gone-1")?.["status"]).toBe(499);
      await healthy(s.port);
    });
  });

  describe("connections", () => {
    it("answers pipelined requests in order, a POST among them", async () => {
      const raw = await rawExchange(s.port, get("/hello") + post("/echo", "abc") + get("/nope") + get("/hello"), {
        until: (t) => responses(t).length >= 4,
        idleMs: 3000,
      });
      expect(responses(raw).map((r) => [r.status, r.body])).toEqual([
        [200, '{"hello":"world"}'],
        [200, "abc"],
        [404, expect.stringContaining("not_found")],
        [200, '{"hello":"world"}'],
      ]);
    });

    it("keeps a connection usable after HEAD, 404, 405 and OPTIONS answers", async () => {
      const raw = await rawExchange(
        s.port,
        `HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n${get("/nope")}${get("/echo")}OPTIONS /echo HTTP/1.1\r\nHost: x\r\n\r\n${get("/hello")}`,
        { until: (t) => (t.match(/HTTP\/1\.1 /g) ?? []).length >= 5 && t.endsWith('{"hello":"world"}'), idleMs: 3000 },
      );
      expect((raw.match(/HTTP\/1\.1 (\d+)/g) ?? []).map((l) => l.slice(9))).toEqual(["200", "404", "405", "204", "200"]);
    });

    it("Retry-After on 429 and 503", async () => {
      const busy = await fetch(`http://127.0.0.1:${s.port}/busy`);
      expect(busy.status).toBe(429);
      expect(busy.headers.get("retry-after")).toBe("1");
      const unavailable = await fetch(`http://127.0.0.1:${s.port}/unavailable`);
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get("retry-after")).toBe("1");
    });

    it("refuses a port another server holds, whatever its backend", async () => {
      for (const other of backends) {
        const { transport } = createTransport(other, { maxHeaderBytes: 8192, headersTimeoutMs: 2000 });
        const second = createHttpServer({
          transport,
          logger: createLogger({ level: "error" }),
          metrics: noopTelemetry,
          timeoutMs: 1000,
          maxBodyBytes: MAX_BODY,
          cors: undefined,
          accessLog: undefined,
          router: { route: () => new NotFound() },
        });
        await expect(second.listen({ host: "127.0.0.1", port: s.port, exclusive: true })).rejects.toBeInstanceOf(PortInUseError);
        second.close();
      }
      await healthy(s.port);
    });
  });

  describe("requests the parser rejects", () => {
    it("HTTP/1.0: node answers and closes; uWS 20.30 does not answer", async () => {
      const raw = await rawExchange(s.port, `GET /hello HTTP/1.0\r\n\r\n`, { idleMs: 1500 });
      if (backend === "node") {
        expect(parseRawResponse(raw)?.status).toBe(200);
        expect(raw.toLowerCase()).toContain("connection: close");
      } else expect(raw).toBe("");
      await healthy(s.port);
    });

    it("a malformed header line: node answers 400 bad_request; uWS 20.30 does not answer", async () => {
      const raw = await rawExchange(s.port, `GET /hello HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`, { idleMs: 1500 });
      if (backend === "node") {
        const r = parseRawResponse(raw)!;
        expect(r.status).toBe(400);
        expect(JSON.parse(r.body)).toMatchObject({ code: "bad_request", error: expect.stringContaining("malformed HTTP request") });
      } else expect(raw).toBe("");
      await healthy(s.port);
    });

    it("a head that never finishes: node answers 408 request_timeout after the head timeout; uWS 20.30 does not answer", async () => {
      const raw = await rawExchange(s.port, `GET /hello HTTP/1.1\r\nHost: x\r\n`, { idleMs: 3500 });
      if (backend === "node") {
        const r = parseRawResponse(raw)!;
        expect(r.status).toBe(408);
        expect(JSON.parse(r.body).code).toBe("request_timeout");
      } else expect(raw).toBe("");
      await healthy(s.port);
    });

    it("headers over the limit: node answers 431 headers_too_large; uWS 20.30 has no limit to set (serves or resets)", async () => {
      const raw = await rawExchange(s.port, get("/hello", `X-Big: ${"a".repeat(100_000)}\r\n`), { idleMs: 1500 });
      if (backend === "node") {
        const r = parseRawResponse(raw)!;
        expect(r.status).toBe(431);
        expect(JSON.parse(r.body).code).toBe("headers_too_large");
      } else expect(raw === "" || parseRawResponse(raw)?.status === 200).toBe(true);
      await healthy(s.port);
    });
  });

  describe("drain", () => {
    it("finishes in-flight requests, refuses new connections, and closes each connection after its response", async () => {
      const d = await start(backend);
      const inflight = fetch(`http://127.0.0.1:${d.port}/slow?ms=300`, { method: "POST", body: "{}" });
      for (let i = 0; i < 100 && d.server.inflight === 0; i++) await new Promise((r) => setTimeout(r, 5));
      const drained = d.server.drain(5000);
      const refused = await new Promise<boolean>((resolve) => {
        const sock = connect(d.port, "127.0.0.1");
        sock.on("connect", () => {
          sock.destroy();
          resolve(false);
        });
        sock.on("error", () => resolve(true));
      });
      expect(refused).toBe(true);
      const r = await inflight;
      expect(r.status).toBe(200);
      expect(r.headers.get("connection")).toBe("close");
      await drained;
      expect(d.server.inflight).toBe(0);
      d.server.close();
    });
  });
});
