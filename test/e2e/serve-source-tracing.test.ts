/**
 * `bentoc serve <source dir>` compiles in the same process, then serves with tracing on: the compiler's
 * modules (ts-morph, loaded with `require`) must leave later CommonJS code working — the OTLP exporter
 * loads its HTTP agent with a dynamic `import()`. A require hook that broke this once went unnoticed by
 * the tests that serve a compiled directory; this one serves the source, as a user does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OtlpReceiver, startOtlpReceiver } from "../helpers/otlp-receiver.ts";
import { freePort } from "../helpers/prometheus.ts";
import { prepareHome, removeDir, startBentoc, waitReady } from "../helpers/serve-sample.ts";

describe("bentoc serve <source> with tracing", () => {
  let home: string;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    home = await prepareHome(["support-tickets"]);
    receiver = await startOtlpReceiver();
  }, 120_000);

  afterAll(async () => {
    await receiver?.close();
    if (home) removeDir(home);
  });

  it("compiles, serves and exports the request's spans over OTLP/HTTP", async () => {
    const port = await freePort();
    const { child, output } = startBentoc(["serve", "samples/support-tickets", "--port", String(port), "--host", "127.0.0.1"], {
      BENTOC_HOME: home,
      BENTOC_LOG_LEVEL: "warn",
      BENTOC_TRACING_SAMPLE_RATE: "1",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, output, 120_000);
      const res = await fetch(`${url}/classify`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "trace-me-1" },
        body: JSON.stringify({ texts: ["the app crashes when I open settings"] }),
      });
      expect(res.status).toBe(200);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !receiver.spans.some((s) => s.attributes["http.request_id"] === "trace-me-1")) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const request = receiver.spans.find((s) => s.attributes["http.request_id"] === "trace-me-1");
      expect(request, `no request span exported; server output:\n${output()}`).toBeDefined();
      const trace = receiver.spans.filter((s) => s.traceId === request!.traceId);
      expect(trace.length).toBeGreaterThanOrEqual(4); // request, handler, a call to each of the two runners
      expect(output()).not.toMatch(/dynamic import callback|ERR_VM_DYNAMIC_IMPORT/);
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    }
  }, 180_000);
});
