import { describe, expect, it } from "vitest";
import { createTelemetry } from "../../../runtime/observability/create-telemetry.ts";
import { batchSizeBuckets, createMetrics, DEFAULT_DURATION_BUCKETS, unionBatchSizeBuckets } from "../../../runtime/observability/metrics.ts";
import { parseExposition } from "./parse-exposition.ts";

const service = { service_name: "support_tickets", service_version: "1.2.3" };

function metrics(extra: Partial<Parameters<typeof createMetrics>[0]> = {}) {
  return createMetrics({ serviceName: "support_tickets", serviceVersion: "1.2.3", processMetrics: false, ...extra });
}

describe("batch size buckets", () => {
  it("are powers of two up to the max, the max included", () => {
    expect(batchSizeBuckets(32)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(batchSizeBuckets(24)).toEqual([1, 2, 4, 8, 16, 24]);
    expect(batchSizeBuckets(1)).toEqual([1]);
  });
  it("unite over runners, and default to 128 when none is given", () => {
    expect(unionBatchSizeBuckets({ a: 8, b: 12 })).toEqual([1, 2, 4, 8, 12]);
    expect(unionBatchSizeBuckets(undefined)).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);
  });
});

describe("metrics", () => {
  it("declares every metric with its type, even before any call", async () => {
    const exp = parseExposition(await metrics().metricsText());
    expect(Object.fromEntries(exp.types)).toEqual({
      bentoc_api_server_request_duration_seconds: "histogram",
      bentoc_api_server_request_total: "counter",
      bentoc_api_server_request_in_progress: "gauge",
      bentoc_api_server_stream_duration_seconds: "histogram",
      bentoc_api_server_stream_total: "counter",
      bentoc_api_server_stream_items_total: "counter",
      bentoc_runner_request_duration_seconds: "histogram",
      bentoc_runner_request_total: "counter",
      bentoc_runner_adaptive_batch_size: "histogram",
      bentoc_runner_batch_execution_duration_seconds: "histogram",
      bentoc_runner_queue_depth: "gauge",
      bentoc_runner_queue_wait_seconds: "histogram",
      bentoc_runner_rejected_total: "counter",
      bentoc_runner_model_load_seconds: "gauge",
    });
  });

  it("includes default process metrics in its own registry, not the global one", async () => {
    const { register } = await import("prom-client");
    const a = createMetrics({ serviceName: "a", serviceVersion: "1" });
    const b = createMetrics({ serviceName: "b", serviceVersion: "1" });
    const text = await a.metricsText();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(await register.metrics()).not.toContain("bentoc_api_server_request_total");
    a.requestFinished("/x", 200, 0.1);
    expect(parseExposition(await b.metricsText()).find("bentoc_api_server_request_total")).toEqual([]);
  });

  it("counts API requests by endpoint and status, with the configured buckets", async () => {
    const m = metrics({ durationBuckets: [0.5, 0.1, 1] });
    m.requestStarted("/classify");
    m.requestStarted("/classify");
    m.requestStarted("/classify"); // still in flight at the end
    m.requestStarted("/summarize");
    m.requestFinished("/classify", 200, 0.05);
    m.requestFinished("/classify", 200, 0.3);
    m.requestFinished("/summarize", 400, 2);
    const exp = parseExposition(await m.metricsText());
    const ok = { endpoint: "/classify", http_response_code: "200", ...service };
    expect(exp.value("bentoc_api_server_request_total", ok)).toBe(2);
    expect(exp.value("bentoc_api_server_request_total", { endpoint: "/summarize", http_response_code: "400" })).toBe(1);
    // Buckets sorted, cumulative, with +Inf.
    const buckets = exp.find("bentoc_api_server_request_duration_seconds_bucket", ok).map((s) => [s.labels.le, s.value]);
    expect(buckets).toEqual([
      ["0.1", 1],
      ["0.5", 2],
      ["1", 2],
      ["+Inf", 2],
    ]);
    expect(exp.value("bentoc_api_server_request_duration_seconds_sum", ok)).toBeCloseTo(0.35, 10);
    expect(exp.value("bentoc_api_server_request_duration_seconds_count", ok)).toBe(2);
    expect(exp.value("bentoc_api_server_request_in_progress", { endpoint: "/classify", ...service })).toBe(1);
    expect(exp.value("bentoc_api_server_request_in_progress", { endpoint: "/summarize" })).toBe(0);
    // The in-progress gauge carries no status code.
    expect(exp.find("bentoc_api_server_request_in_progress")[0]!.labels).not.toHaveProperty("http_response_code");
  });

  it("counts a value equal to a bound in that bucket (le is inclusive), and ignores NaN", async () => {
    const m = metrics({ durationBuckets: [0.1, 0.5] });
    m.queueWait("r", "m", 0.5);
    m.queueWait("r", "m", 0.1);
    m.queueWait("r", "m", 0.5000001);
    m.queueWait("r", "m", Number.NaN);
    const exp = parseExposition(await m.metricsText());
    const buckets = exp.find("bentoc_runner_queue_wait_seconds_bucket").map((s) => [s.labels.le, s.value]);
    expect(buckets).toEqual([
      ["0.1", 1],
      ["0.5", 2],
      ["+Inf", 3],
    ]);
    expect(exp.value("bentoc_runner_queue_wait_seconds_count")).toBe(3);
  });

  it("uses BentoML's default duration buckets when none are configured", async () => {
    const m = metrics({ durationBuckets: [] });
    m.runnerCall("clf", "predict", "ok", 0.01);
    const exp = parseExposition(await m.metricsText());
    const les = exp.find("bentoc_runner_request_duration_seconds_bucket").map((s) => s.labels.le);
    expect(les).toEqual([...DEFAULT_DURATION_BUCKETS.map(String), "+Inf"]);
  });

  it("rejects nonsense buckets", () => {
    expect(() => metrics({ durationBuckets: [0.1, -1] })).toThrow(/durationBuckets/);
  });

  it("records runner calls, batches, queue and rejections with runner labels", async () => {
    const m = metrics({ maxBatchSizes: { clf: 8, ocr: 24 } });
    m.runnerCall("clf", "predict", "ok", 0.02);
    m.runnerCall("clf", "predict", "ok", 0.04);
    m.runnerCall("clf", "predict", "error", 0.01);
    m.batchExecuted("clf", "predict", 3, 0.015);
    m.batchExecuted("clf", "predict", 8, 0.03);
    m.queueDepth("clf", "predict", 5);
    m.queueDepth("clf", "predict", 2);
    m.queueWait("clf", "predict", 0.004);
    m.rejected("clf", "predict", "queue_full");
    m.rejected("clf", "predict", "queue_full");
    m.rejected("clf", "predict", "deadline");
    m.modelLoaded("clf", 1.25);
    const exp = parseExposition(await m.metricsText());
    const r = { runner_name: "clf", method: "predict", ...service };
    expect(exp.value("bentoc_runner_request_total", { ...r, outcome: "ok" })).toBe(2);
    expect(exp.value("bentoc_runner_request_total", { ...r, outcome: "error" })).toBe(1);
    expect(exp.value("bentoc_runner_request_duration_seconds_count", { ...r, outcome: "ok" })).toBe(2);
    const sizes = exp.find("bentoc_runner_adaptive_batch_size_bucket", r).map((s) => [s.labels.le, s.value]);
    expect(sizes).toEqual([
      ["1", 0],
      ["2", 0],
      ["4", 1],
      ["8", 2],
      ["16", 2],
      ["24", 2],
      ["+Inf", 2],
    ]);
    expect(exp.value("bentoc_runner_adaptive_batch_size_sum", r)).toBe(11);
    expect(exp.value("bentoc_runner_adaptive_batch_size_count", r)).toBe(2);
    expect(exp.value("bentoc_runner_batch_execution_duration_seconds_count", r)).toBe(2);
    expect(exp.value("bentoc_runner_queue_depth", r)).toBe(2);
    expect(exp.value("bentoc_runner_queue_wait_seconds_sum", r)).toBeCloseTo(0.004, 10);
    expect(exp.value("bentoc_runner_rejected_total", { ...r, reason: "queue_full" })).toBe(2);
    expect(exp.value("bentoc_runner_rejected_total", { ...r, reason: "deadline" })).toBe(1);
    expect(exp.value("bentoc_runner_model_load_seconds", { runner_name: "clf", ...service })).toBe(1.25);
  });

  it("escapes label values that need it", async () => {
    const m = metrics();
    m.requestFinished('/a"b\\c', 200, 0.1);
    const exp = parseExposition(await m.metricsText());
    expect(exp.value("bentoc_api_server_request_total", { endpoint: '/a"b\\c' })).toBe(1);
  });
});

describe("createTelemetry metrics", () => {
  const tracing = { sampleRate: 0, endpoint: null, headers: {}, protocol: null };

  it("serves the metrics through metricsText and contentType", async () => {
    const t = createTelemetry(
      { metrics: { enabled: true, durationBuckets: [0.1, 1] }, tracing },
      { name: "svc", version: "0.1.0", maxBatchSizes: { clf: 4 } },
      { processMetrics: false, env: {} },
    );
    t.requestStarted("/p");
    t.requestFinished("/p", 503, 0.2);
    t.batchExecuted("clf", "predict", 4, 0.01);
    expect(t.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const exp = parseExposition(await t.metricsText());
    expect(exp.value("bentoc_api_server_request_total", { endpoint: "/p", http_response_code: "503", service_name: "svc", service_version: "0.1.0" })).toBe(1);
    expect(exp.find("bentoc_runner_adaptive_batch_size_bucket").map((s) => s.labels.le)).toEqual(["1", "2", "4", "+Inf"]);
    expect(t.metricsEnabled).toBe(true);
    expect(t.tracingEnabled).toBe(false);
    await t.shutdown();
  });

  it("with metrics disabled, records nothing and exposes an empty text", async () => {
    const t = createTelemetry({ metrics: { enabled: false, durationBuckets: [] }, tracing }, { name: "svc", version: "1" }, { env: {} });
    t.requestStarted("/p");
    t.requestFinished("/p", 200, 0.2);
    expect(await t.metricsText()).toBe("");
    expect(t.metrics).toBeUndefined();
  });
});
