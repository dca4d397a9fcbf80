import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { OtlpProtocol } from "../../../runtime/config/config-types.ts";
import { createTelemetry, type RuntimeTelemetry } from "../../../runtime/observability/create-telemetry.ts";
import { noopTelemetry } from "../../../runtime/observability/telemetry.ts";
import { parseTraceparent, traceIdOf } from "../../../runtime/observability/traceparent.ts";
import { BATCH_STARTED_EVENT, DEFAULT_ENDPOINT, resolveTracingSettings, SPAN_ATTRIBUTES } from "../../../runtime/observability/tracing.ts";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../../helpers/otlp-receiver.ts";

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";
const sampledParent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const unsampledParent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00`;
const metricsOff = { enabled: false, durationBuckets: [] };

let receiver: OtlpReceiver;
const open: RuntimeTelemetry[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  for (const t of open) await t.shutdown();
  await receiver.close();
});
beforeEach(() => receiver.clear());

function telemetry(sampleRate: number, extra: { headers?: Record<string, string>; env?: Record<string, string>; protocol?: OtlpProtocol } = {}) {
  const t = createTelemetry(
    { metrics: metricsOff, tracing: { sampleRate, endpoint: receiver.url, headers: extra.headers ?? {}, protocol: extra.protocol ?? null } },
    { name: "support_tickets", version: "1.2.3" },
    { env: extra.env ?? {}, processMetrics: false },
  );
  open.push(t);
  return t;
}

/** What the server and the dispatcher do for one request that makes one runner call. */
function request(t: RuntimeTelemetry, traceparent: string | undefined) {
  const req = t.startRequestSpan("POST /classify", traceparent);
  req.setAttribute("http.request_id", `req-${Math.random()}`);
  const handler = t.startHandlerSpan("/classify", req.traceparent);
  const call = t.startRunnerSpan("clf", "predict", handler.traceparent);
  return {
    req,
    handler,
    call,
    finish(status = 200) {
      call.end();
      handler.end();
      req.setAttribute("http.status_code", status);
      req.end();
    },
  };
}

const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

describe("tracing", () => {
  it.each([
    ["http/protobuf", "application/x-protobuf"],
    ["http/json", "application/json"],
  ] as const)("exports request, handler, runner and batch spans with parent/child and links (%s)", async (protocol, contentType) => {
    const t = telemetry(1, { protocol });
    const withParent = request(t, sampledParent);
    const a = request(t, undefined);
    const b = request(t, undefined);
    const batch = t.startBatchSpan("clf", "predict", [withParent.call.traceparent, a.call.traceparent, b.call.traceparent, undefined]);
    batch.end();
    withParent.finish();
    a.finish();
    b.finish(503);
    await t.flush();

    const spans = receiver.spans;
    expect(spans).toHaveLength(10);
    const requests = byName(spans, "POST /classify");
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.kind).toBe(2); // SERVER
      expect(r.attributes["http.method"]).toBe("POST");
      expect(r.attributes["http.route"]).toBe("/classify");
      expect(r.attributes["http.request_id"]).toMatch(/^req-/);
      expect(r.resource["service.name"]).toBe("support_tickets");
      expect(r.resource["service.version"]).toBe("1.2.3");
    }
    // The client's traceparent is the parent of its request span.
    const child = requests.find((r) => r.traceId === CLIENT_TRACE)!;
    expect(child.parentSpanId).toBe(CLIENT_SPAN);
    // Requests without traceparent start their own traces.
    const roots = requests.filter((r) => r !== child);
    expect(roots.map((r) => r.parentSpanId)).toEqual(["", ""]);
    expect(new Set(requests.map((r) => r.traceId)).size).toBe(3);
    // 5xx marks the request span as an error.
    expect(requests.filter((r) => r.statusCode === 2)).toHaveLength(1);

    // request → handler → runner call, all in one trace each.
    for (const r of requests) {
      const handler = spans.find((s) => s.name === "api /classify" && s.parentSpanId === r.spanId)!;
      expect(handler.traceId).toBe(r.traceId);
      const call = spans.find((s) => s.name === "runner clf.predict" && s.parentSpanId === handler.spanId)!;
      expect(call.traceId).toBe(r.traceId);
      expect(call.attributes[SPAN_ATTRIBUTES.runner]).toBe("clf");
      // The batch took the call: queue wait recorded on the call span.
      expect(call.attributes[SPAN_ATTRIBUTES.queueWaitSeconds]).toBeGreaterThanOrEqual(0);
      const ev = call.events.find((e) => e.name === BATCH_STARTED_EVENT)!;
      expect(ev.attributes[SPAN_ATTRIBUTES.batchSpanId]).toBe(byName(spans, "batch clf.predict")[0]!.spanId);
    }

    // The batch span is a root of its own trace, linked to each call it served.
    const [batchSpan] = byName(spans, "batch clf.predict");
    expect(batchSpan!.parentSpanId).toBe("");
    expect(batchSpan!.attributes[SPAN_ATTRIBUTES.batchSize]).toBe(4);
    const calls = byName(spans, "runner clf.predict");
    expect(batchSpan!.links.map((l) => `${l.traceId}/${l.spanId}`).sort()).toEqual(calls.map((c) => `${c.traceId}/${c.spanId}`).sort());
    expect(new Set(receiver.requests.map((r) => r.contentType))).toEqual(new Set([contentType]));
    // Times are Unix nanoseconds: each span ends at or after its start, within this test's run.
    for (const s of spans) {
      expect(s.endTimeUnixNano).toBeGreaterThanOrEqual(s.startTimeUnixNano);
      expect(Math.abs(Number(s.startTimeUnixNano / 1_000_000n) - Date.now())).toBeLessThan(60_000);
    }
  });

  it("encodes any attribute value and long or non-ASCII strings", async () => {
    const t = telemetry(1, { protocol: "http/protobuf" });
    const span = t.startRequestSpan("POST /é", undefined);
    const long = "x".repeat(20_000); // a span over 16 KiB: its length takes three bytes
    span.setAttribute("s.long", long);
    span.setAttribute("s.utf8", "naïve – 日本");
    span.setAttribute("s.mid", "é".repeat(30)); // 25–42 characters: one native write
    span.setAttribute("s.mid.ascii", "m".repeat(60));
    span.setAttribute("n.int", 42);
    span.setAttribute("n.big", 2 ** 40 + 3);
    span.setAttribute("n.neg", -7);
    span.setAttribute("n.double", 0.125);
    span.setAttribute("b", true);
    span.end(new Error("x".repeat(200)));
    t.startHandlerSpan("/", undefined).end(); // a span under 128 bytes: one length byte
    await t.flush();
    expect(receiver.spans.map((s) => s.name)).toEqual(["POST /é", "api /"]);
    expect(receiver.spans[1]!.attributes).toEqual({ [SPAN_ATTRIBUTES.endpoint]: "/" });
    const [got] = receiver.spans;
    expect(got!.name).toBe("POST /é");
    expect(got!.attributes).toMatchObject({
      "s.long": long,
      "s.utf8": "naïve – 日本",
      "n.int": 42,
      "n.big": 2 ** 40 + 3,
      "n.neg": -7,
      "n.double": 0.125,
      b: true,
    });
    expect(got!.events[0]!.attributes["exception.message"]).toBe("x".repeat(200));
    expect(got!.statusCode).toBe(2);
  });

  it("hands out a traceparent naming the span, usable for logs", () => {
    const t = telemetry(1);
    const span = t.startRequestSpan("GET /livez", sampledParent);
    const p = parseTraceparent(span.traceparent)!;
    expect(p.traceId).toBe(CLIENT_TRACE);
    expect(p.spanId).not.toBe(CLIENT_SPAN);
    expect(p.sampled).toBe(true);
    expect(traceIdOf(span.traceparent)).toBe(CLIENT_TRACE);
    span.end();
  });

  it("at rate 0 exports nothing unless the client's parent is sampled", async () => {
    const t = telemetry(0);
    expect(t.tracingEnabled).toBe(true); // an endpoint is configured
    for (let i = 0; i < 20; i++) request(t, undefined).finish();
    request(t, unsampledParent).finish();
    const sampledCalls: string[] = [];
    const r = request(t, sampledParent);
    sampledCalls.push(r.call.traceparent!);
    // A batch serving one unsampled and one sampled call is exported (it is linked to a sampled span).
    const other = request(t, undefined);
    const batch = t.startBatchSpan("clf", "predict", [other.call.traceparent, r.call.traceparent]);
    batch.end();
    r.finish();
    other.finish();
    await t.flush();
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(["POST /classify", "api /classify", "batch clf.predict", "runner clf.predict"]);
    expect(receiver.spans.filter((s) => s.name !== "batch clf.predict").every((s) => s.traceId === CLIENT_TRACE)).toBe(true);
    // A batch only of unsampled calls is not exported.
    receiver.clear();
    const lone = request(t, undefined);
    t.startBatchSpan("clf", "predict", [lone.call.traceparent]).end();
    lone.finish();
    await t.flush();
    expect(receiver.spans).toEqual([]);
  });

  it("at rate 1 exports every root span, and honours an unsampled parent", async () => {
    const t = telemetry(1);
    for (let i = 0; i < 25; i++) request(t, undefined).finish();
    request(t, unsampledParent).finish();
    await t.flush();
    expect(byName(receiver.spans, "POST /classify")).toHaveLength(25);
    expect(receiver.spans).toHaveLength(75);
  });

  it("does not export a batch serving only unsampled calls, whatever the rate", async () => {
    const t = telemetry(1);
    const call = request(t, unsampledParent);
    t.startBatchSpan("clf", "predict", [call.call.traceparent]).end();
    call.finish();
    await t.flush();
    expect(receiver.spans).toEqual([]);
  });

  it("at rate 0.5 samples about half of 400 root spans", async () => {
    const t = telemetry(0.5);
    for (let i = 0; i < 400; i++) t.startRequestSpan("POST /classify", undefined).end();
    await t.flush();
    // Binomial(400, 0.5): mean 200, sd 10; the band is ±6 sd.
    const n = receiver.spans.length;
    expect(n).toBeGreaterThan(140);
    expect(n).toBeLessThan(260);
  });

  it("sends configured and OTEL_* headers and honours OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES", async () => {
    const t = telemetry(1, {
      headers: { authorization: "Bearer abc" },
      env: {
        OTEL_EXPORTER_OTLP_HEADERS: "x-team=ml,authorization=overridden-by-config",
        OTEL_SERVICE_NAME: "tickets-prod",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod",
      },
    });
    t.startRequestSpan("GET /readyz", undefined).end();
    await t.flush();
    const req = receiver.requests.find((r) => r.contentType === "application/x-protobuf")!;
    expect(req.headers.authorization).toBe("Bearer abc");
    expect(req.headers["x-team"]).toBe("ml");
    expect(receiver.spans[0]!.resource["service.name"]).toBe("tickets-prod");
    expect(receiver.spans[0]!.resource["deployment.environment"]).toBe("prod");
    expect(receiver.spans[0]!.resource["service.version"]).toBe("1.2.3");
  });

  it("records errors passed to end()", async () => {
    const t = telemetry(1);
    t.startRunnerSpan("clf", "predict", undefined).end(new Error("onnx failed"));
    await t.flush();
    expect(receiver.spans[0]!.statusCode).toBe(2);
    expect(receiver.spans[0]!.events.map((e) => e.name)).toContain("exception");
  });
});

describe("tracing off", () => {
  it("is off by default and then is the no-op path, passing traceparent through", async () => {
    const t = createTelemetry(
      { metrics: metricsOff, tracing: { sampleRate: 0, endpoint: null, headers: {}, protocol: null } },
      { name: "svc", version: "1" },
      { env: {} },
    );
    expect(t.tracingEnabled).toBe(false);
    expect(t.startRequestSpan).toBe(noopTelemetry.startRequestSpan);
    expect(t.startRunnerSpan).toBe(noopTelemetry.startRunnerSpan);
    expect(t.startRequestSpan("GET /", sampledParent).traceparent).toBe(sampledParent);
    expect(t.startRunnerSpan("clf", "predict", sampledParent).traceparent).toBe(sampledParent);
    expect(t.startHandlerSpan("/x", sampledParent).traceparent).toBe(sampledParent);
    expect(t.startRequestSpan("GET /", undefined).traceparent).toBeUndefined();
    await t.shutdown();
  });
});

describe("resolveTracingSettings", () => {
  const cfg = { sampleRate: 0, endpoint: null, headers: {}, protocol: null };
  it("reads the standard OTEL_* variables", () => {
    expect(resolveTracingSettings(cfg, {})).toMatchObject({ enabled: false, sampleRate: 0, endpoint: DEFAULT_ENDPOINT });
    expect(resolveTracingSettings(cfg, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toMatchObject({
      enabled: true,
      endpoint: "http://c:4318/v1/traces",
    });
    expect(resolveTracingSettings(cfg, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t/x", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c" }).endpoint).toBe(
      "http://t/x",
    );
    expect(resolveTracingSettings(cfg, { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.25" })).toMatchObject({
      enabled: true,
      sampleRate: 0.25,
    });
    expect(resolveTracingSettings({ ...cfg, sampleRate: 1 }, { OTEL_SDK_DISABLED: "true" }).enabled).toBe(false);
    expect(resolveTracingSettings({ ...cfg, sampleRate: 1 }, { OTEL_TRACES_EXPORTER: "none" }).enabled).toBe(false);
  });
  it("lets bentoc config win over OTEL_*", () => {
    const s = resolveTracingSettings(
      { sampleRate: 0.1, endpoint: "http://cfg/v1/traces", headers: { a: "cfg" }, protocol: null },
      { OTEL_TRACES_SAMPLER: "always_on", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://env", OTEL_EXPORTER_OTLP_HEADERS: "a=env,b=env" },
    );
    expect(s).toEqual({ enabled: true, sampleRate: 0.1, endpoint: "http://cfg/v1/traces", headers: { a: "cfg", b: "env" }, protocol: "http/protobuf" });
  });
  it("takes the OTLP protocol from config, then OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL; protobuf by default", () => {
    expect(resolveTracingSettings(cfg, {}).protocol).toBe("http/protobuf");
    expect(resolveTracingSettings(cfg, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).protocol).toBe("http/json");
    expect(resolveTracingSettings(cfg, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }).protocol).toBe(
      "http/protobuf",
    );
    expect(resolveTracingSettings({ ...cfg, protocol: "http/json" }, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }).protocol).toBe("http/json");
  });
});
