/**
 * The generated client in real headless Chromium (Debian's, driven by playwright-core): a page served by
 * the test imports client/index.js, calls the support-tickets API on the bentoc server (CORS enabled for
 * the page's origin), and shows the result and the typed error it gets for bad input.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { prepareHome, removeDir, serveSample, type ServedSample } from "../helpers/serve-sample.ts";
import { freePort } from "../helpers/prometheus.ts";

const CHROMIUM = "/usr/bin/chromium";
const required = process.env["CI"] === "true";
const available = existsSync(CHROMIUM);
if (required && !available) throw new Error(`${CHROMIUM} is missing: run scripts/ci-deps.sh`);

let home: string;
let served: ServedSample;
let page: Server;
let pagePort: number;
let browser: Browser | undefined;

const html = (apiUrl: string) => `<!doctype html>
<html><body>
<pre id="result">pending</pre><pre id="error">pending</pre>
<script type="module">
  import { createClient, BentocClientError } from "./client/index.js";
  const client = createClient({ baseUrl: ${JSON.stringify(apiUrl)}, timeoutMs: 20000 });
  const result = await client.classify({ text: "My invoice shows the wrong amount", id: "B-7" });
  document.getElementById("result").textContent = JSON.stringify(result);
  try {
    await client.classify({ text: 42 });
    document.getElementById("error").textContent = "no error";
  } catch (e) {
    document.getElementById("error").textContent = JSON.stringify({
      typed: e instanceof BentocClientError, status: e.status, code: e.code, paths: (e.body.detail ?? []).map((d) => d.path),
    });
  }
</script>
</body></html>`;

beforeAll(async () => {
  if (!available) return;
  home = await prepareHome(["support-tickets"]);
  pagePort = await freePort();
  const origin = `http://127.0.0.1:${pagePort}`;
  const configDir = mkdtempSync(join(tmpdir(), "bentoc-cors-"));
  const configFile = join(configDir, "bentoc.yaml");
  writeFileSync(configFile, `server:\n  cors:\n    enabled: true\n    origins: ["${origin}"]\n`);
  served = await serveSample("support-tickets", { home, args: ["--config", configFile] });
  const clientJs = readFileSync(join(served.outDir, "client/index.js"));
  page = createServer((req, res) => {
    if (req.url === "/client/index.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(clientJs);
    } else if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(html(served.url));
    } else if (req.url === "/favicon.ico") {
      res.writeHead(204).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => page.listen(pagePort, "127.0.0.1", r));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

afterAll(async () => {
  await browser?.close();
  page?.close();
  if (served) {
    expect(await served.stop()).toBe(0);
    removeDir(served.outDir);
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
  expect(["billing", "bug", "account", "other"]).toContain(result.label);
  expect(result.id).toBe("B-7");
  const error = JSON.parse((await tab.textContent("#error")) ?? "null");
  expect(error).toEqual({ typed: true, status: 400, code: "invalid_input", paths: ["/text"] });
  // the 400 shows in the console as a failed resource load; nothing else may fail
  expect(consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
});
