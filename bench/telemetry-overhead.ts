/**
 * Telemetry overhead (issue 8): the per-request cost of everything the API server and the batching
 * dispatcher call on `Telemetry` for one request with one runner call in a batch of one —
 * requestStarted, request span, handler span, runner span, batch span (linked), queueWait, batchExecuted,
 * runnerCall, requestFinished — for: the no-op object, metrics on, tracing at 1.0, and both.
 * Tracing exports for real over OTLP/HTTP (protobuf, bentoc's export queue) to an in-process sink that counts spans;
 * the loop yields to the event loop every chunk so export work is paid inside the measured time. A last
 * variant drops spans as they end (no encoding, no export), to separate span cost from OTLP cost. Each variant
 * runs 3 times; the median is reported. `spansExported` < `spansCreated` means the export
 * queue (OTEL_BSP_MAX_QUEUE_SIZE, default 8192) overflowed and dropped spans — it never blocks requests.
 *
 * Run: `npx tsx bench/telemetry-overhead.ts` → bench/results/telemetry-overhead.{json,md}
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createTelemetry } from "../runtime/observability/create-telemetry.ts";
import { noopTelemetry, type Telemetry } from "../runtime/observability/telemetry.ts";
import { countOtlpSpans } from "./otlp-span-count.ts";
import { isMain, machineInfo, machineLine, mdTable, writeResults } from "./results-io.ts";

interface Variant {
  name: string;
  metrics: boolean;
  sampleRate: number | null;
  /** Spans go to an exporter that drops them: the cost of the spans alone, without OTLP. */
  discardSpans?: boolean;
}

export interface OverheadResult {
  variant: string;
  metrics: boolean;
  tracingSampleRate: number | null;
  opsPerSecond: number;
  nsPerRequest: number;
  spansCreated: number;
  spansExported: number | null;
}

const VARIANTS: Variant[] = [
  { name: "noop", metrics: false, sampleRate: null },
  { name: "metrics-on/tracing-off", metrics: true, sampleRate: null },
  { name: "metrics-off/tracing-1.0", metrics: false, sampleRate: 1 },
  { name: "metrics-on/tracing-1.0", metrics: true, sampleRate: 1 },
  { name: "metrics-off/tracing-1.0/no-export", metrics: false, sampleRate: 1, discardSpans: true },
];

/** A span processor that drops what it gets: isolates span creation from OTLP encoding and I/O. */
const discardingProcessor = {
  onEnd() {},
  flush: async () => {},
  shutdown: async () => {},
};

const SPANS_PER_REQUEST = 4;

function oneRequest(t: Telemetry & { startHandlerSpan?: Telemetry["startHandlerSpan"] }, i: number): void {
  const endpoint = i % 2 === 0 ? "/classify" : "/summarize";
  t.requestStarted(endpoint);
  const req = t.startRequestSpan(`POST ${endpoint}`, undefined);
  const handler = t.startHandlerSpan ? t.startHandlerSpan(endpoint, req.traceparent) : req;
  const call = t.startRunnerSpan("classifier", "predict", handler.traceparent);
  t.queueDepth("classifier", "predict", 1);
  t.queueWait("classifier", "predict", 0.001);
  const batch = t.startBatchSpan("classifier", "predict", [call.traceparent]);
  t.batchExecuted("classifier", "predict", 1, 0.004);
  batch.end();
  t.runnerCall("classifier", "predict", "ok", 0.005);
  call.end();
  if (handler !== req) handler.end();
  req.setAttribute("http.status_code", 200);
  req.end();
  t.requestFinished(endpoint, 200, 0.006);
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

async function measure(t: Telemetry, requests: number, chunk: number): Promise<number> {
  // Warm up (JIT, label children).
  for (let i = 0; i < 2_000; i++) oneRequest(t, i);
  await yieldToLoop();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < requests; done += chunk) {
    for (let i = 0; i < chunk; i++) oneRequest(t, done + i);
    await yieldToLoop();
  }
  return Number(process.hrtime.bigint() - t0);
}

export async function runTelemetryOverheadBench(options: { requests?: number; chunk?: number } = {}): Promise<OverheadResult[]> {
  const requests = options.requests ?? 100_000;
  const chunk = options.chunk ?? 100;
  let exported = 0;
  let sinkBuffer = Buffer.allocUnsafe(1 << 20);
  const sink = createServer((req, res) => {
    // Bodies are gathered in one reused buffer: a fresh 300 KB Buffer.concat per export would be paid
    // by this process, i.e. inside the measured time, and is not what a real collector costs us.
    let length = 0;
    req.on("data", (d: Buffer) => {
      if (length + d.length > sinkBuffer.length) {
        const bigger = Buffer.allocUnsafe(2 * (length + d.length));
        sinkBuffer.copy(bigger, 0, 0, length);
        sinkBuffer = bigger;
      }
      d.copy(sinkBuffer, length);
      length += d.length;
    });
    req.on("end", () => {
      exported += countOtlpSpans(String(req.headers["content-type"]), sinkBuffer.subarray(0, length));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;

  const results: OverheadResult[] = [];
  try {
    for (const v of VARIANTS) {
      exported = 0;
      const t =
        v.name === "noop"
          ? undefined
          : createTelemetry(
              {
                metrics: { enabled: v.metrics, durationBuckets: [] },
                tracing:
                  v.sampleRate === null
                    ? { sampleRate: 0, endpoint: null, headers: {}, protocol: null }
                    : { sampleRate: v.sampleRate, endpoint, headers: {}, protocol: null },
              },
              { name: "bench", version: "0.0.0", maxBatchSizes: { classifier: 32 } },
              { env: {}, ...(v.discardSpans ? { spanProcessor: discardingProcessor } : {}) },
            );
      const rounds: number[] = [];
      for (let r = 0; r < 3; r++) rounds.push(await measure(t ?? noopTelemetry, requests, chunk));
      const ns = rounds.sort((a, b) => a - b)[1]!;
      await t?.shutdown();
      const tracing = v.sampleRate !== null;
      results.push({
        variant: v.name,
        metrics: v.metrics,
        tracingSampleRate: v.sampleRate,
        opsPerSecond: Math.round((requests / ns) * 1e9),
        nsPerRequest: Math.round(ns / requests),
        spansCreated: tracing ? 3 * (requests + 2_000) * SPANS_PER_REQUEST : 0,
        spansExported: tracing && !v.discardSpans ? exported : null,
      });
    }
  } finally {
    await new Promise<void>((r) => sink.close(() => r()));
  }
  return results;
}

/** Runs the micro-benchmark and writes bench/results/telemetry-overhead.{json,md}. */
export async function runAndWriteTelemetryOverheadBench(options: { requests?: number; chunk?: number } = {}): Promise<Record<string, unknown>> {
  const generatedAt = new Date().toISOString();
  const requests = options.requests ?? 100_000;
  const results = await runTelemetryOverheadBench(options);
  const machine = machineInfo();
  const noop = results.find((r) => r.variant === "noop");
  const doc = {
    bench: "telemetry-overhead",
    issue: 8,
    generatedAt,
    machine,
    node: process.version,
    requestsPerRound: requests,
    note: "per request: 1 API request + handler + 1 runner call + 1 batch (4 spans, 9 metric updates); tracing exports over OTLP/HTTP protobuf to an in-process sink",
    results,
    addedNsPerRequest: Object.fromEntries(results.filter((r) => r !== noop).map((r) => [r.variant, noop ? r.nsPerRequest - noop.nsPerRequest : null])),
  };
  const md = [
    "# Telemetry overhead, micro-benchmark (issue 8)",
    "",
    machineLine(generatedAt, machine),
    "",
    "The telemetry calls of one request with one runner call in a batch of one (4 spans, 9 metric updates), without HTTP;",
    `${requests} simulated requests per round, median of 3 rounds. Tracing exports over OTLP/HTTP (protobuf) to an in-process sink.`,
    "`spans exported` below `spans created` means the export queue overflowed and dropped spans (it never blocks).",
    "The HTTP-level cost is in http-telemetry-overhead.md.",
    "",
    mdTable(
      ["variant", "ns / request", "added ns vs no-op", "requests / s", "spans created", "spans exported"],
      results.map((r) => [r.variant, r.nsPerRequest, noop ? r.nsPerRequest - noop.nsPerRequest : "–", r.opsPerSecond, r.spansCreated, r.spansExported ?? "–"]),
    ),
    "",
  ].join("\n");
  writeResults("telemetry-overhead", doc, md);
  return doc;
}

if (isMain(import.meta.url)) {
  const doc = await runAndWriteTelemetryOverheadBench();
  console.table(doc.results);
}
