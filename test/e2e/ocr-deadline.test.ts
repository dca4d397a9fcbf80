/**
 * Request context across awaits, tracing off: the OCR sample's handler awaits an `import()` before it
 * calls its runners, so its runner calls are made after an await. They must still carry the request's
 * deadline and abort signal: a call that cannot finish in time is refused at once (503 `deadline`), and
 * one still queued when its request times out (504) is dropped (`deadline` or `aborted`) instead of
 * running for nobody. Real server, real PaddleOCR models.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canRender, renderPng } from "../fixtures/ocr/render-text.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";
import { parseExposition } from "../unit/observability/parse-exposition.ts";

const CI = process.env["CI"] === "true";
const TIMEOUT_MS = 1000;

describe.skipIf(!CI && !canRender())("ocr: runner calls made after an await leave the queue when their request times out", () => {
  let home = "";
  let served: ServedSample | undefined;
  beforeAll(async () => {
    if (!canRender()) throw new Error("ImageMagick's `convert` is required to render the OCR test images");
    home = await prepareHome(["ocr"]);
    served = await serveSample("ocr", { home, env: { BENTOC_SERVER__TIMEOUT_MS: String(TIMEOUT_MS), BENTOC_TRACING_SAMPLE_RATE: "0" } });
  });
  afterAll(async () => {
    await served?.stop();
    if (home) removeDir(home);
  });

  const metric = async (name: string, runner: string, extra: (labels: Record<string, string>) => boolean = () => true): Promise<number> => {
    const text = await (await fetch(`${served!.url}/metrics`)).text();
    return parseExposition(text)
      .find(name)
      .filter((s) => s.labels["runner_name"] === runner && extra(s.labels))
      .reduce((sum, s) => sum + s.value, 0);
  };

  it("times out the requests and drops their queued detector calls instead of running them", async () => {
    const lines = Array.from({ length: 12 }, (_, i) => ({
      text: `Line ${i + 1}: invoice INV-2024-${1000 + i} total ${i * 7}.50 EUR`,
      x: 20,
      y: 60 + i * 70,
      pointsize: 32,
    }));
    const png = new Uint8Array(renderPng(1400, 900, lines));
    const read = () => fetch(`${served!.url}/read`, { method: "POST", headers: { "content-type": "image/png" }, body: png });
    // Warm up (the dispatcher learns the detector's latency), and learn how long one request takes here.
    for (let i = 0; i < 4; i++) await read();
    const t0 = performance.now();
    await read();
    const oneMs = performance.now() - t0;
    // Enough concurrent requests that most must still be queued when the timeout strikes.
    const n = Math.max(12, Math.ceil((4 * TIMEOUT_MS) / Math.max(20, oneMs)));
    const executedBefore = await metric("bentoc_runner_adaptive_batch_size_count", "text-detector");
    const answers = await Promise.all(
      Array.from({ length: n }, () => read().then(async (r) => ({ status: r.status, code: r.ok ? "" : ((await r.json()) as { code: string }).code }))),
    );
    const outcomes = answers.map((a) => (a.status === 200 ? "200" : `${a.status} ${a.code}`));
    const late = outcomes.filter((o) => o !== "200").length;
    expect(late, `outcomes ${outcomes.join(",")} (one request ${oneMs.toFixed(0)} ms)`).toBeGreaterThan(n / 2);
    expect(
      outcomes.every((o) => o === "200" || o === "503 deadline" || o === "504 timeout"),
      outcomes.join(","),
    ).toBe(true);
    // The queue empties promptly: what is left is at most the batch running when the timeouts struck.
    for (let i = 0; i < 100 && (await metric("bentoc_runner_queue_depth", "text-detector")) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric("bentoc_runner_queue_depth", "text-detector")).toBe(0);
    const executed = (await metric("bentoc_runner_adaptive_batch_size_count", "text-detector")) - executedBefore;
    const dropped = await metric("bentoc_runner_rejected_total", "text-detector", (l) => l["reason"] === "deadline" || l["reason"] === "aborted");
    // Every detector call either ran (one image per batch) or was dropped; a request that timed out while
    // its image was still decoding never made one.
    expect(executed + dropped).toBeLessThanOrEqual(n);
    expect(dropped).toBeGreaterThan(0);
    expect(executed).toBeLessThan(n);
  });
});
