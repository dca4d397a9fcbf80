/**
 * Graceful shutdown of a real `serveCompiledDir` process: requests in flight when SIGTERM arrives all
 * complete with 200, new connections are refused meanwhile, and the process exits 0.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { buildEchoDir, PROJECT_ROOT } from "../fixtures/runtime/build-echo.ts";
import { completeResponse, parseRawResponse } from "../fixtures/runtime/raw-http.ts";

const SERVE = fileURLToPath(new URL("../fixtures/runtime/serve-dir.ts", import.meta.url));
let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

function startProcess(dir: string, workers = 1): Promise<{ port: number; lines: string[]; exited: Promise<number | null> }> {
  child = spawn(process.execPath, ["--import", "tsx", SERVE, dir, String(workers)], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buf = "";
    child!.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const m = /serving .* at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) resolve({ port: Number(m[1]), lines, exited });
      }
    });
    void exited.then((code) => reject(new Error(`server exited early with ${code}: ${lines.join("\n")}`)));
  });
}

/** One keep-alive connection that can send several requests in turn. */
function keepAlive(port: number) {
  const s = connect(port, "127.0.0.1");
  let text = "";
  let waiter: (() => void) | undefined;
  s.on("data", (d) => {
    text += d.toString("latin1");
    waiter?.();
  });
  const ready = new Promise<void>((r) => s.once("connect", () => r()));
  const closed = new Promise<void>((r) => s.once("close", () => r()));
  return {
    ready,
    /** Resolves when the server (or `close`) ends the connection. */
    closed,
    async send(path: string, body = ""): Promise<{ status: number; body: string }> {
      text = "";
      s.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await new Promise<void>((resolve) => {
        waiter = () => completeResponse(text) && resolve();
        waiter();
      });
      const r = parseRawResponse(text)!;
      return { status: r.status, body: r.body };
    },
    close: () => s.destroy(),
  };
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

async function untilRefused(port: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await connectionRefused(port)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the port kept accepting connections after SIGTERM");
}

for (const workers of [1, 2]) {
  it(`SIGTERM drains in-flight requests, refuses new connections, exits 0 (workers=${workers})`, async () => {
    const dir = await buildEchoDir();
    const { port, lines, exited } = await startProcess(dir, workers);
    // One keep-alive control connection per worker process (found by the pid /whoami reports).
    const controls = new Map<number, ReturnType<typeof keepAlive>>();
    for (let i = 0; i < 200 && controls.size < workers; i++) {
      const c = keepAlive(port);
      await c.ready;
      const pid = (JSON.parse((await c.send("/whoami")).body) as { pid: number }).pid;
      if (controls.has(pid)) c.close();
      else controls.set(pid, c);
    }
    expect(controls.size).toBe(workers);
    const HELD = 6;
    const held = Array.from({ length: HELD }, (_, i) =>
      fetch(`http://127.0.0.1:${port}/hold`, { method: "POST", headers: { "x-request-id": `held-${i}` } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { requestId: string },
      })),
    );
    // Wait until every held request is inside its handler.
    for (let i = 0; i < 2000 && lines.filter((l) => l.startsWith("held ")).length < HELD; i++) await new Promise((r) => setTimeout(r, 5));
    expect(lines.filter((l) => l.startsWith("held ")).length).toBe(HELD);

    child!.kill("SIGTERM");
    await untilRefused(port);
    // A worker holding requests is still draining: release them over the connection opened before. A worker
    // that holds none (the kernel may send all held connections to one) has nothing to drain: it closes its
    // idle connection and exits at once.
    const holding = new Set(lines.filter((l) => l.startsWith("held ")).map((l) => Number(l.split(" ")[2])));
    for (const [pid, c] of controls) {
      if (holding.has(pid)) expect((await c.send("/release")).status).toBe(200);
      else await c.closed;
    }
    const results = await Promise.all(held);
    expect(results.map((r) => r.status)).toEqual(Array(HELD).fill(200));
    expect(results.map((r) => r.body.requestId).sort()).toEqual(Array.from({ length: HELD }, (_, i) => `held-${i}`).sort());
    for (const c of controls.values()) c.close();
    expect(await exited).toBe(0);
  }, 60_000);
}
