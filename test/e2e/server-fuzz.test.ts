/**
 * 5,000 random malformed requests over raw sockets (random methods, paths, headers, content types,
 * garbage and truncated bodies). Afterwards the server still answers /livez and never answered 5xx.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { mulberry32 } from "../../runtime/models/prng.ts";
import { completeResponse, parseRawResponse, rawExchange } from "../fixtures/runtime/raw-http.ts";
import { type EchoServer, eventually, startEcho } from "../fixtures/runtime/start-echo.ts";

let echo: EchoServer;
beforeAll(async () => {
  echo = await startEcho({ maxBodyBytes: 1 << 20, timeoutMs: 5000, maxConcurrency: 10_000, accessLog: false });
});
afterAll(async () => {
  await echo?.served.shutdown();
});

// A seeded PRNG so a failure can be replayed.
const rng = mulberry32;

const SEED = Number(process.env["FUZZ_SEED"] ?? 20261125);
const rand = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));

const ROUTES = [
  "/greet",
  "/echo",
  "/shout",
  "/scale",
  "/image-size",
  "/file-info",
  "/upload",
  "/version",
  "/search",
  "/slow",
  "/whoami",
  "/livez",
  "/docs",
  "/docs/x",
  "/nope",
  "/%00",
  "/greet/../greet",
  "//",
  "/search?q=&limit=-1",
];
const METHODS = ["POST", "POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW", "post"];
const TYPES = [
  "application/json",
  "text/plain",
  "application/octet-stream",
  "image/png",
  "image/jpeg",
  "multipart/form-data; boundary=b",
  "multipart/form-data",
  "text/plain; charset=utf-16",
  "application/x-www-form-urlencoded",
  "",
  "\u00ff/\u00fe",
  "application/json; charset=utf-8",
];

function body(): Buffer {
  switch (Math.floor(rand() * 14)) {
    case 0:
      return bytes(Math.floor(rand() * 300));
    case 1:
      return Buffer.from(JSON.stringify({ name: pick([1, null, "", "x", [], {}]), times: pick(["a", 1e308, -1, null]), tags: pick([[1], "x", null]) }));
    case 2:
      return Buffer.from('{"name": "abc", "tags": ["a", ').subarray(0, Math.floor(rand() * 30));
    case 3:
      return Buffer.from("[".repeat(100_000 + Math.floor(rand() * 100_000)));
    case 4:
      return Buffer.from(
        JSON.stringify({
          dtype: pick(["float32", "int64", "bool", "x", 3]),
          shape: pick([[1, 3], [-1], [1e9, 1e9], "x", [2, 3]]),
          data: pick([[1, 2, 3], [[1, "a", 3]], [true], "x", null]),
        }),
      );
    case 5:
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]),
        bytes(Math.floor(rand() * 64)),
      ]);
    case 6:
      return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), bytes(Math.floor(rand() * 200))]);
    case 7:
      return Buffer.from(
        `--b\r\nContent-Disposition: form-data; name="${pick(["meta", "doc", "note", "x"])}"${pick(["", '; filename="a"'])}\r\n\r\n${pick(["{", '{"name":"x"}', "\u0000"])}\r\n${pick(["--b--\r\n", "--b", ""])}`,
      );
    case 8:
      return Buffer.from(`{"value":${"1".repeat(400)}}`);
    case 9:
      return Buffer.from('{"ms": -5}');
    case 10:
      return Buffer.from("\uD800\uDC00 \u0000 null");
    case 11:
      return Buffer.from('{"__proto__": {"polluted": true}, "name": "x"}');
    case 12:
      return Buffer.alloc(0);
    default:
      return Buffer.from("null");
  }
}

function request(): { data: Buffer; halfClose: boolean; head: boolean } {
  const method = pick(METHODS);
  const path = pick(ROUTES);
  const b = body();
  const headers: string[] = [`Host: fuzz`];
  const ct = pick(TYPES);
  if (ct) headers.push(`Content-Type: ${ct}`);
  const lengthMode = Math.floor(rand() * 5);
  let payload = b;
  if (lengthMode === 0) headers.push(`Content-Length: ${b.length}`);
  else if (lengthMode === 1) {
    // truncated: claims more than it sends, then half-closes
    headers.push(`Content-Length: ${b.length + 1 + Math.floor(rand() * 1000)}`);
  } else if (lengthMode === 2) {
    headers.push("Transfer-Encoding: chunked");
    payload = Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from(pick(["\r\n0\r\n\r\n", "\r\n", "zz\r\n"]))]);
  } else if (lengthMode === 3) headers.push(`Content-Length: ${pick(["-1", "abc", "99999999999999999999", "1, 2"])}`);
  else headers.push(`Content-Length: ${b.length}`);
  if (rand() < 0.2) headers.push(`x-dtype: ${pick(["float32", "int8", "bogus", ""])}`, `x-shape: ${pick(["1,3", "x", "[]", "-1", "3"])}`);
  if (rand() < 0.1) headers.push(`x-request-id: ${pick(["ok-1", "\u0001bad", "a".repeat(500)])}`);
  const garbageHeader = rand() < 0.05;
  if (garbageHeader) headers.push(`X-Garbage\u0000: \u00ff`);
  headers.push("Connection: close");
  const head = Buffer.from(`${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`, "latin1");
  // Truncated and chunked bodies end with a half-close (the client is done), so the server sees the end.
  return { data: Buffer.concat([head, payload]), halfClose: lengthMode === 1 || lengthMode === 2 || garbageHeader, head: method === "HEAD" };
}

it("survives 5,000 random malformed requests without a 5xx", async () => {
  const N = 5000;
  const statuses = new Map<number, number>();
  const fiveXX: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      next++;
      const { data, halfClose, head } = request();
      const until = head ? (t: string) => t.includes("\r\n\r\n") : completeResponse;
      // idleMs only bounds a request the server is still (legitimately) waiting on; it asserts nothing.
      const raw = await rawExchange(echo.port, data, { halfClose, until, idleMs: 2000 });
      const res = parseRawResponse(raw);
      const status = res?.status ?? 0; // 0: connection closed without a response (uWS refused to parse)
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) fiveXX.push(`${status} for ${JSON.stringify(data.subarray(0, 200).toString("latin1"))}: ${res?.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  console.log(`fuzz seed ${SEED}: statuses`, Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])));
  expect(fiveXX).toEqual([]);
  expect((await fetch(`${echo.url}/livez`)).status).toBe(200);
  // Most requests must have reached the application, or the fuzzer tests nothing.
  const answered = [...statuses].filter(([s]) => s >= 200).reduce((n, [, c]) => n + c, 0);
  expect(answered).toBeGreaterThan(N / 2);
  await eventually(() => echo.served.server?.inflight === 0);
});
