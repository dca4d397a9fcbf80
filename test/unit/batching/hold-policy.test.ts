import { describe, expect, it } from "vitest";
import { type HoldInput, holdTime } from "../../../runtime/batching/hold-policy.ts";
import { LatencyModel } from "../../../runtime/batching/latency-model.ts";

const base: HoldInput = { n: 1, maxBatchSize: 32, remainingMs: 20, fit: { a: 50, b: 1 }, gapMs: 2, itemsPerCall: 1, slackMs: Infinity };

describe("holdTime", () => {
  it("holds while the fixed cost of a batch outweighs the latency of waiting for the next call", () => {
    expect(holdTime(base)).toBe(2);
    // (n+m)Δ + n·m·b < m·a: with 20 items queued, 21·2 + 20 ≥ 50 → dispatch.
    expect(holdTime({ ...base, n: 20 })).toBe(0);
    // Cheap batches (a small) never pay for waiting.
    expect(holdTime({ ...base, fit: { a: 1, b: 1 } })).toBe(0);
  });

  it("never holds past the window, a full batch, a deadline, or without a fitted model", () => {
    expect(holdTime({ ...base, gapMs: 30 })).toBe(0);
    expect(holdTime({ ...base, remainingMs: 1.5 })).toBe(0);
    expect(holdTime({ ...base, remainingMs: 0 })).toBe(0);
    expect(holdTime({ ...base, n: 32 })).toBe(0);
    expect(holdTime({ ...base, slackMs: 40 })).toBe(0);
    expect(holdTime({ ...base, fit: undefined })).toBe(0);
    expect(holdTime({ ...base, gapMs: Infinity })).toBe(0);
    expect(holdTime({ ...base, gapMs: 10, remainingMs: 12 })).toBeLessThanOrEqual(12);
  });
});

describe("LatencyModel", () => {
  it("assumes no batching benefit until two batch sizes were seen, then fits a + b·n", () => {
    const m = new LatencyModel();
    expect(m.predict(4)).toBeUndefined();
    m.record(2, 10);
    m.record(2, 12);
    expect(m.snapshot().kind).toBe("mean");
    expect(m.linear()).toBeUndefined();
    expect(m.predict(4)).toBeCloseTo(22, 0);
    m.record(8, 26);
    m.record(4, 14);
    const fit = m.linear();
    expect(fit?.b).toBeGreaterThan(1.5);
    expect(fit?.a).toBeGreaterThan(0);
  });

  it("clamps a negative slope to zero (noise is not physics)", () => {
    const m = new LatencyModel();
    m.record(1, 10);
    m.record(8, 9);
    expect(m.linear()).toEqual({ a: expect.any(Number), b: 0, samples: 2, kind: "linear" });
  });
});
