/** `bentoc bench`'s reading of /metrics (batch sizes per runner, every method summed) and its table. */
import { describe, expect, it } from "vitest";
import { type BenchReport, batchTotals, formatTable, parseSettings } from "../../../loadtest/bench-runner.ts";

const METRICS = `# HELP bentoc_runner_adaptive_batch_size items per executed batch
# TYPE bentoc_runner_adaptive_batch_size histogram
bentoc_runner_adaptive_batch_size_bucket{le="1",runner_name="embedding",method="embed",service_name="s",service_version="1"} 2
bentoc_runner_adaptive_batch_size_sum{runner_name="embedding",method="embed",service_name="s",service_version="1"} 96
bentoc_runner_adaptive_batch_size_count{runner_name="embedding",method="embed",service_name="s",service_version="1"} 4
bentoc_runner_adaptive_batch_size_sum{method="classify",runner_name="classifier",service_name="s",service_version="1"} 96
bentoc_runner_adaptive_batch_size_count{method="classify",runner_name="classifier",service_name="s",service_version="1"} 2
bentoc_runner_adaptive_batch_size_sum{runner_name="embedding",method="rerank",service_name="s",service_version="1"} 4
bentoc_runner_adaptive_batch_size_count{runner_name="embedding",method="rerank",service_name="s",service_version="1"} 4
bentoc_runner_queue_depth{runner_name="embedding",method="embed",service_name="s",service_version="1"} 7
`;

describe("bench: batch sizes per runner", () => {
  it("sums items and batches per runner over its methods, whatever the label order", () => {
    expect(Object.fromEntries(batchTotals(METRICS))).toEqual({ embedding: { sum: 100, count: 8 }, classifier: { sum: 96, count: 2 } });
  });

  it("adds up several servers' metrics (an API and its split-out runners)", () => {
    const totals = batchTotals(METRICS, batchTotals(METRICS));
    expect(totals.get("classifier")).toEqual({ sum: 192, count: 4 });
  });

  it("tabulates one mean batch size column per runner, '-' for a runner that ran nothing", () => {
    const latency = { p50: 10, p95: 20, p99: 30, mean: 12, max: 40 };
    const report: BenchReport = {
      url: "http://x",
      api: "classify",
      mode: "closed loop 80 clients",
      recommended: "adaptive",
      rows: [
        {
          setting: "off",
          requests: 10,
          errors: 0,
          statuses: { "200": 10 },
          durationS: 1,
          rps: 10,
          latencyMs: latency,
          runners: { embedding: { meanBatchSize: 1, itemsPerS: 10 }, classifier: { meanBatchSize: null, itemsPerS: 0 } },
        },
        {
          setting: "adaptive",
          requests: 20,
          errors: 0,
          statuses: { "200": 20 },
          durationS: 1,
          rps: 20,
          latencyMs: latency,
          runners: { embedding: { meanBatchSize: 12.5, itemsPerS: 20 }, classifier: { meanBatchSize: 3, itemsPerS: 20 } },
        },
      ],
    };
    const lines = formatTable(report).split("\n");
    expect(lines[0]).toMatch(/^setting\s+req\/s\s+p50 ms\s+p95 ms\s+p99 ms\s+batch classifier\s+batch embedding\s+errors$/);
    expect(lines[2]).toMatch(/^off\s+10\.0\s+10\.0\s+20\.0\s+30\.0\s+-\s+1\.00\s+0$/);
    expect(lines[3]).toMatch(/^adaptive\s+20\.0\s+.*\s+3\.00\s+12\.50\s+0$/);
    expect(lines.at(-1)).toBe("recommended: adaptive");
  });

  it("parses settings", () => {
    expect(parseSettings("off,adaptive,5,10/32")).toEqual([
      { label: "off", enabled: false },
      { label: "adaptive", enabled: true },
      { label: "5", enabled: true, maxLatencyMs: 5 },
      { label: "10/32", enabled: true, maxLatencyMs: 10, maxBatchSize: 32 },
    ]);
    expect(() => parseSettings("soon")).toThrow(/invalid batching setting 'soon'/);
  });
});
