/**
 * The generated client in real headless Chromium (Debian's, driven by playwright-core): a page served by
 * the test imports client/index.js, calls the support-tickets API on the bentoc server (CORS enabled for
 * the page's origin), and shows the result and the typed error it gets for bad input; and the
 * streaming-text sample's streaming method, consumed with `for await` in the page.
 */

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env["CI"] === "true";
const available = existsSync(CHROMIUM);
if (required && !available) throw new Error(`${CHROMIUM} is missing: run scripts/ci-deps.sh`);

let home: string;
let served: ServedSample;
let streaming: ServedSample;
let page: Server;
let pagePort: number;
let browser: Browser | undefined;

const html = (apiUrl: string) => `<!doctype html>
<html><body>
<pre id="result">pending</pre><pre id="error">pending</pre>
<script type="module">
  import { createClient, BentocClientError } from "./client/index.js";
  const client = createClient({ baseUrl: ${JSON.stringify(apiUrl)}, timeoutMs: 20000 });
  const result = await client.classify({ texts: ["My invoice shows the wrong amount", "cannot log in"] });
  document.getElementById("result").textContent = JSON.stringify(result);
  try {
    await client.classify({ texts: ["fine", 42] });
    document.getElementById("error").textContent = "no error";
  } catch (e) {
    document.getElementById("error").textContent = JSON.stringify({
      typed: e instanceof BentocClientError, status: e.status, code: e.code, paths: (e.body.detail ?? []).map((d) => d.path),
    });
  }
</script>
</body></html>`;

const streamHtml = (apiUrl: string) => `<!doctype html>
<html><body>
<pre id="stream">pending</pre>
<script type="module">
  import { createClient, BentocClientError } from "./client/streaming.js";
  const client = createClient({ baseUrl: ${JSON.stringify(apiUrl)} });
  const items = [];
  for await (const item of client.generate({ prompt: "the ", maxTokens: 12 })) items.push(item);
  const early = [];
  for await (const item of client.generate({ prompt: "the ", maxTokens: 2000 })) {
    early.push(item.char);
    if (early.length === 3) break;
  }
  let error = null;
  try {
    for await (const item of client.generate({ prompt: "UPPER" })) void item;
  } catch (e) {
    error = { typed: e instanceof BentocClientError, status: e.status, code: e.code };
  }
  document.getElementById("stream").textContent = JSON.stringify({ items, early: early.join(""), error });
</script>
</body></html>`;

beforeAll(async () => {
  if (!available) return;
  home = await prepareHome(["support-tickets", "streaming-text"]);
  pagePort = await freePort();
  const origin = `http://127.0.0.1:${pagePort}`;
  const configDir = mkdtempSync(join(tmpdir(), "bentoc-cors-"));
  const configFile = join(configDir, "bentoc.yaml");
  writeFileSync(configFile, `server:\n  cors:\n    enabled: true\n    origins: ["${origin}"]\n`);
  served = await serveSample("support-tickets", { home, args: ["--config", configFile] });
  streaming = await serveSample("streaming-text", { home, args: ["--config", configFile] });
  const clientJs = readFileSync(join(served.outDir, "client/index.js"));
  const streamingJs = readFileSync(join(streaming.outDir, "client/index.js"));
  page = createServer((req, res) => {
    if (req.url === "/client/index.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(clientJs);
    } else if (req.url === "/client/streaming.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(streamingJs);
    } else if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/html" }).end(streamHtml(streaming.url));
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(html(served.url));
    } else if (req.url === "/favicon.ico") {
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => page.listen(pagePort, "127.0.0.1", r));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  page?.close();
  for (const s of [served, streaming]) {
    if (!s) continue;
    expect(await s.stop()).toBe(0);
    removeDir(s.outDir);
  }
  if (home) removeDir(home);
});

it.skipIf(!available)("calls the API from a page and shows the result and a typed error", async () => {
  const tab = await browser!.newPage();
  const consoleErrors: string[] = [];
  tab.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  await tab.goto(`http://127.0.0.1:${pagePort}/`);
  await tab.waitForFunction(() => document.getElementById("error")?.textContent !== "pending", undefined, { timeout: 30_000 });
  const result = JSON.parse((await tab.textContent("#result")) ?? "null");
  expect(result.results).toHaveLength(2);
  for (const r of result.results) {
    expect(["billing", "bug", "account", "other"]).toContain(r.label);
    expect(r.score).toBe(r.scores[r.label]);
  }
  const error = JSON.parse((await tab.textContent("#error")) ?? "null");
  expect(error).toEqual({ typed: true, status: 400, code: "invalid_input", paths: ["/texts/1"] });
  // the 400 shows in the console as a failed resource load; nothing else may fail
  expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
});

it.skipIf(!available)("consumes a streaming API with for await, breaks out early, and gets a typed error", async () => {
  const tab = await browser!.newPage();
  await tab.goto(`http://127.0.0.1:${pagePort}/stream`);
  await tab.waitForFunction(() => document.getElementById("stream")?.textContent !== "pending", undefined, { timeout: 30_000 });
  const out = JSON.parse((await tab.textContent("#stream")) ?? "null") as { items: { index: number; char: string }[]; early: string; error: unknown };
  expect(out.items.map((i) => i.index)).toEqual([...Array(12).keys()]);
  const text = out.items.map((i) => i.char).join("");
  expect(text).toMatch(/^[a-z .,!?']{12}$/);
  expect(out.early).toBe(text.slice(0, 3));
  expect(out.error).toEqual({ typed: true, status: 400, code: "invalid_input" });
  // The same text as Node's fetch gets: the stream is deterministic.
  const res = await fetch(`${streaming.url}/generate`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ prompt: "the ", maxTokens: 12 }),
  });
  const lines = (await res.text())
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { char: string }).char);
  expect(lines.join("")).toBe(text);
});
