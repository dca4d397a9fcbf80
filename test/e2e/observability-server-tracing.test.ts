/**
 * OpenTelemetry traces from a real `bentoc serve` of the support-tickets sample (tiny MiniLM, real
 * ONNX; two runners, embedding then classifier), exported over OTLP/HTTP (JSON) to a receiver of the
 * test's own. Tracing is configured the
 * way an operator does it: `BENTOC_TRACING_SAMPLE_RATE` and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
 *
 * - rate 1.0: concurrent requests with a sampled client `traceparent`, without one, and with an
 *   unsampled one. Checks span names and kinds, request → handler → runner parent links (one runner
 *   span per runner, and the client's span as the request span's parent), the request id and status
 *   code attributes, and that every batch span links to exactly the runner-call spans it served.
 * - rate 0.25: 200 requests without `traceparent` export about a quarter of the traces, each complete;
 *   a client's sampled flag is honoured both ways (ParentBased sampler, docs/observability.md).
 *
 * Spans are flushed by stopping the server with SIGTERM (its shutdown flushes the span processor).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../helpers/otlp-receiver.ts";
import { prepareHome, removeDir, type ServedSample, serveSample } from "../helpers/serve-sample.ts";

const REQUEST = "POST /classify";
const HANDLER = "api /classify";
/** The runner methods a /classify request calls, in order; one call each per request. */
const RUNNERS = [
  { runner: "embedding", method: "embed", call: "runner embedding.embed", batch: "batch embedding.embed" },
  { runner: "classifier", method: "classify", call: "runner classifier.classify", batch: "batch classifier.classify" },
] as const;
const RUNNER_CALLS: readonly string[] = RUNNERS.map((r) => r.call);
const KIND_INTERNAL = 1;
const KIND_SERVER = 2;
const STATUS_ERROR = 2;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

interface Sent {
  requestId: string;
  /** The client's span, when a traceparent was sent. */
  client?: { traceId: string; spanId: string; sampled: boolean };
  status: number;
}

/** POST /classify with an `x-request-id` (to find its spans) and optionally a `traceparent`. */
async function classify(url: string, requestId: string, client?: Sent["client"]): Promise<Sent> {
  const headers: Record<string, string> = { "content-type": "application/json", "x-request-id": requestId };
  if (client) headers.traceparent = `00-${client.traceId}-${client.spanId}-${client.sampled ? "01" : "00"}`;
  const res = await fetch(`${url}/classify`, {
    method: "POST",
    headers,
    body: JSON.stringify({ texts: [`request ${requestId}: I was charged twice for my subscription this month and the refund never arrived`] }),
  });
  await res.arrayBuffer();
  expect(res.headers.get("x-request-id")).toBe(requestId);
  return { requestId, ...(client ? { client } : {}), status: res.status };
}

/** Sends `count` requests, `concurrency` at a time. */
async function drive(count: number, concurrency: number, send: (i: number) => Promise<Sent>): Promise<Sent[]> {
  const out: Sent[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) out.push(await send(next++));
    }),
  );
  return out;
}

/** The spans of each kind, indexed for link checks. */
function index(spans: readonly ReceivedSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const named = (name: string) => spans.filter((s) => s.name === name);
  const requestByRequestId = new Map(named(REQUEST).map((s) => [String(s.attributes["http.request_id"]), s]));
  const childOf = (parent: ReceivedSpan, name: string) => spans.filter((s) => s.name === name && s.parentSpanId === parent.spanId);
  return { byId, named, requestByRequestId, childOf };
}

/** The request's trace: request span, its handler span and the handler's runner spans (one per runner), checked. */
function checkTrace(ix: ReturnType<typeof index>, sent: Sent): { request: ReceivedSpan; handler: ReceivedSpan; runners: ReceivedSpan[] } {
  const request = ix.requestByRequestId.get(sent.requestId);
  expect(request, `request span for ${sent.requestId}`).toBeDefined();
  expect(request!.kind).toBe(KIND_SERVER);
  expect(request!.attributes).toMatchObject({ "http.method": "POST", "http.route": "/classify", "http.status_code": 200 });
  expect(request!.statusCode).not.toBe(STATUS_ERROR);
  expect(request!.resource).toMatchObject({ "service.name": "support-tickets", "service.version": "1.0.0" });
  if (sent.client) {
    expect(request!.traceId).toBe(sent.client.traceId);
    expect(request!.parentSpanId).toBe(sent.client.spanId);
  } else {
    expect(request!.parentSpanId).toBe("");
  }

  const handlers = ix.childOf(request!, HANDLER);
  expect(handlers).toHaveLength(1);
  const handler = handlers[0]!;
  expect(handler.kind).toBe(KIND_INTERNAL);
  expect(handler.traceId).toBe(request!.traceId);
  expect(handler.attributes["bentoc.endpoint"]).toBe("/classify");

  const runners = RUNNERS.map((r) => {
    const calls = ix.childOf(handler, r.call);
    expect(calls, r.call).toHaveLength(1);
    const call = calls[0]!;
    expect(call.kind).toBe(KIND_INTERNAL);
    expect(call.traceId).toBe(request!.traceId);
    expect(call.attributes).toMatchObject({ "bentoc.runner": r.runner, "bentoc.method": r.method });
    expect(call.attributes["bentoc.queue_wait_seconds"]).toBeGreaterThanOrEqual(0);
    const started = call.events.filter((e) => e.name === "batch.started");
    expect(started).toHaveLength(1);

    // The batch that served this call: named in the call's event, and linking back to the call.
    const batch = ix.byId.get(String(started[0]!.attributes["bentoc.batch.span_id"]));
    expect(batch?.name).toBe(r.batch);
    expect(batch!.links).toContainEqual({ traceId: call.traceId, spanId: call.spanId });
    return call;
  });
  return { request: request!, handler, runners };
}

describe("OpenTelemetry traces from a running bentoc server", () => {
  let home: string;
  let full: ServedSample;
  let partial: ServedSample;
  let fullReceiver: OtlpReceiver;
  let partialReceiver: OtlpReceiver;

  const tracingEnv = (receiver: OtlpReceiver, rate: string) => ({
    BENTOC_TRACING_SAMPLE_RATE: rate,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "200",
  });

  beforeAll(async () => {
    [home, fullReceiver, partialReceiver] = await Promise.all([prepareHome(["support-tickets"]), startOtlpReceiver(), startOtlpReceiver()]);
    [full, partial] = await Promise.all([
      serveSample("support-tickets", { home, env: tracingEnv(fullReceiver, "1.0") }),
      serveSample("support-tickets", { home, env: tracingEnv(partialReceiver, "0.25") }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([full?.stop(), partial?.stop()]);
    for (const s of [full, partial]) if (s) removeDir(s.outDir);
    await Promise.all([fullReceiver?.close(), partialReceiver?.close()]);
    if (home) removeDir(home);
  });

  it("at rate 1.0: request → handler → runner spans, the client's traceparent honoured, batch spans linked to every call they served", async () => {
    // 96 concurrent requests: a third with a sampled client traceparent, a third without, a third
    // with an unsampled one (which the parent-based sampler must not record, even at rate 1).
    const sent = await drive(96, 48, (i) => {
      const requestId = `full-${i}`;
      if (i % 3 === 0) return classify(full.url, requestId, { traceId: hex(16), spanId: hex(8), sampled: true });
      if (i % 3 === 1) return classify(full.url, requestId);
      return classify(full.url, requestId, { traceId: hex(16), spanId: hex(8), sampled: false });
    });
    expect(sent.map((s) => s.status)).toEqual(Array(96).fill(200));
    // GET /labels has no runner: a request span and a handler span only.
    const labels = await fetch(`${full.url}/labels`, { headers: { "x-request-id": "full-labels" } });
    expect(labels.status).toBe(200);
    await labels.arrayBuffer();

    expect(await full.stop()).toBe(0); // SIGTERM: drains, then flushes the span processor
    expect(fullReceiver.requests.every((r) => r.contentType === "application/x-protobuf")).toBe(true);
    const spans = fullReceiver.spans;
    const ix = index(spans);

    const recorded = sent.filter((s) => !s.client || s.client.sampled);
    const unsampled = sent.filter((s) => s.client && !s.client.sampled);
    const runnerSpans: ReceivedSpan[] = [];
    for (const s of recorded) runnerSpans.push(...checkTrace(ix, s).runners);

    // Unsampled client traces: nothing at all exported for them.
    const unsampledTraces = new Set(unsampled.map((s) => s.client!.traceId));
    expect(spans.filter((s) => unsampledTraces.has(s.traceId))).toEqual([]);
    for (const s of unsampled) expect(ix.requestByRequestId.has(s.requestId)).toBe(false);

    // Span counts: one request and handler span, and one span per runner, per recorded /classify request.
    expect(ix.named(REQUEST)).toHaveLength(recorded.length);
    expect(ix.named(HANDLER)).toHaveLength(recorded.length);
    for (const r of RUNNERS) expect(ix.named(r.call)).toHaveLength(recorded.length);

    // /labels: request span + handler span, no runner.
    const labelsSpan = spans.find((s) => s.name === "GET /labels");
    expect(labelsSpan?.attributes).toMatchObject({ "http.method": "GET", "http.route": "/labels", "http.request_id": "full-labels", "http.status_code": 200 });
    expect(ix.childOf(labelsSpan!, "api /labels")).toHaveLength(1);

    // Batch spans: roots of their own traces, each linking to the calls it served. Every recorded
    // runner call is linked from exactly one batch span; the links of unsampled calls point at spans
    // that were never exported (their traces are the unsampled clients'). A batch serving only
    // unsampled calls is not exported.
    const linkedFrom = new Map<string, number>();
    const sizesByRunner: Record<string, number[]> = {};
    for (const r of RUNNERS) {
      const batches = ix.named(r.batch);
      expect(batches.length, r.batch).toBeGreaterThan(0);
      let items = 0;
      for (const b of batches) {
        expect(b.parentSpanId).toBe("");
        expect(b.kind).toBe(KIND_INTERNAL);
        // one text per request: a batch's size is the number of calls it served
        expect(b.attributes).toMatchObject({ "bentoc.runner": r.runner, "bentoc.method": r.method, "bentoc.batch.size": b.links.length });
        expect(b.links.some((l) => ix.byId.get(l.spanId)?.name === r.call)).toBe(true);
        items += b.links.length;
        for (const l of b.links) {
          linkedFrom.set(l.spanId, (linkedFrom.get(l.spanId) ?? 0) + 1);
          const target = ix.byId.get(l.spanId);
          if (target) {
            expect(target.name).toBe(r.call);
            expect(target.traceId).toBe(l.traceId);
          } else {
            expect(unsampledTraces.has(l.traceId)).toBe(true);
          }
        }
      }
      expect(items).toBeLessThanOrEqual(sent.length);
      // Concurrency made batches that served several calls.
      sizesByRunner[r.runner] = batches.map((b) => b.links.length).sort((a, b) => b - a);
      expect(Math.max(...sizesByRunner[r.runner]!), r.runner).toBeGreaterThan(1);
    }
    expect([...linkedFrom.values()].every((n) => n === 1)).toBe(true); // no call served twice
    for (const r of runnerSpans) expect(linkedFrom.get(r.spanId)).toBe(1);
    console.log(
      `[observability-server-tracing] rate 1.0: ${spans.length} spans, ${recorded.length} traced requests, batch sizes ${Object.entries(sizesByRunner)
        .map(([r, s]) => `${r} ${s.join(",")}`)
        .join("; ")}`,
    );
  });

  it("at rate 0.25: about a quarter of 200 traces exported, each complete; the client's sampled flag wins", async () => {
    const N = 200;
    const sent = await drive(N, 16, (i) => classify(partial.url, `partial-${i}`));
    // A client's decision overrides the ratio: sampled → always recorded, unsampled → never.
    const forced = await drive(40, 16, (i) => classify(partial.url, `partial-client-${i}`, { traceId: hex(16), spanId: hex(8), sampled: i % 2 === 0 }));
    expect([...sent, ...forced].every((s) => s.status === 200)).toBe(true);

    expect(await partial.stop()).toBe(0);
    const spans = partialReceiver.spans;
    const ix = index(spans);

    const traced = sent.filter((s) => ix.requestByRequestId.has(s.requestId));
    for (const s of traced) checkTrace(ix, s);
    const fraction = traced.length / N;
    // Binomial(200, 0.25): sd ≈ 0.031, so ±0.1 is more than 3 sd.
    expect(fraction).toBeGreaterThanOrEqual(0.15);
    expect(fraction).toBeLessThanOrEqual(0.35);

    for (const s of forced) {
      if (s.client!.sampled) checkTrace(ix, s);
      else expect(spans.filter((x) => x.traceId === s.client!.traceId)).toEqual([]);
    }

    // Nothing exported beyond the sampled traces and the batches that served them: a batch span is
    // exported only when one of its calls was sampled.
    const sampledTraces = new Set(ix.named(REQUEST).map((s) => s.traceId));
    expect(sampledTraces.size).toBe(traced.length + forced.filter((s) => s.client!.sampled).length);
    for (const s of spans) {
      if (s.name.startsWith("batch "))
        expect(s.links.some((l) => sampledTraces.has(l.traceId) && RUNNER_CALLS.includes(ix.byId.get(l.spanId)?.name ?? ""))).toBe(true);
      else expect(sampledTraces.has(s.traceId)).toBe(true);
    }
    console.log(`[observability-server-tracing] rate 0.25: ${traced.length}/${N} traces exported (${fraction.toFixed(3)})`);
  });
});
