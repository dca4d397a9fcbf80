import { describe, expect, it } from "vitest";
import { AdaptiveDispatcher, type Clock, type DispatcherOptions } from "../../../runtime/batching/adaptive-dispatcher.ts";
import type { BatchFunction } from "../../../runtime/batching/batch-function.ts";
import { BatchContractError, ServiceUnavailableError } from "../../../runtime/batching/errors.ts";

/** A batch function whose batches wait for the test to release them; records every batch it saw. */
function gated<I, O>(compute: (item: I) => O | Error) {
  const batches: I[][] = [];
  const releases: Array<() => void> = [];
  let waiting: (() => void) | undefined;
  let open = false;
  const fn: BatchFunction<I, O> = async (items) => {
    batches.push([...items]);
    waiting?.();
    if (!open) await new Promise<void>((r) => releases.push(r));
    return items.map(compute);
  };
  return {
    fn,
    batches,
    /** Resolves once the function has been entered `count` times in total. */
    async started(count: number) {
      while (batches.length < count) await new Promise<void>((r) => (waiting = r));
    },
    releaseAll() {
      open = true;
      for (const r of releases.splice(0)) r();
    },
  };
}

/** A manual clock: time moves only when the test (or a batch function) moves it. */
function manualClock(): Clock & { t: number } {
  return {
    t: 1_000_000,
    now() {
      return this.t;
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

function reason(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe("AdaptiveDispatcher", () => {
  it("keeps strict FIFO order and batches what queued while the runner was busy", async () => {
    const g = gated((x: number) => x * 10);
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 3, maxLatencyMs: 0 });
    const first = d.call([0]);
    await g.started(1);
    const rest = [1, 2, 3, 4, 5, 6, 7].map((i) => d.call([i]));
    expect(d.stats().queueDepth).toBe(7);
    g.releaseAll();
    const results = await Promise.all([first, ...rest]);
    expect(results).toEqual([[0], [10], [20], [30], [40], [50], [60], [70]]);
    expect(g.batches).toEqual([[0], [1, 2, 3], [4, 5, 6], [7]]);
    expect(d.stats().lastBatchSizes).toEqual([1, 3, 3, 1]);
  });

  it("splits a call larger than maxBatchSize and reassembles it, keeping each call's items contiguous", async () => {
    const g = gated((x: string) => x.toUpperCase());
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 4, maxLatencyMs: 0 });
    const block = d.call(["z"]);
    await g.started(1);
    const a = d.call(["a0", "a1"]);
    const b = d.call(["b0", "b1", "b2"]);
    const big = d.call(Array.from({ length: 10 }, (_, i) => `c${i}`));
    g.releaseAll();
    expect(await block).toEqual(["Z"]);
    expect(await a).toEqual(["A0", "A1"]);
    expect(await b).toEqual(["B0", "B1", "B2"]);
    expect(await big).toEqual(Array.from({ length: 10 }, (_, i) => `C${i}`));
    expect(g.batches.slice(1)).toEqual([
      ["a0", "a1", "b0", "b1"],
      ["b2", "c0", "c1", "c2"],
      ["c3", "c4", "c5", "c6"],
      ["c7", "c8", "c9"],
    ]);
  });

  it("rejects at once with 503 overloaded when the queue is full, and runs what it accepted", async () => {
    const g = gated((x: number) => x);
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 8, maxLatencyMs: 0, maxQueueSize: 5 });
    const block = d.call([0]);
    await g.started(1);
    const accepted = [d.call([1, 2]), d.call([3, 4, 5])];
    // The runner is still blocked: the refusal cannot come from a finished batch.
    const err = await reason(d.call([6]));
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ status: 503, code: "overloaded" });
    expect(String((err as Error).message)).toMatch(/5 items queued/);
    expect(g.batches).toHaveLength(1);
    g.releaseAll();
    expect(await Promise.all([block, ...accepted])).toEqual([[0], [1, 2], [3, 4, 5]]);
    expect(d.stats().rejected.overloaded).toBe(1);
  });

  it("recovers from a slow outlier: an idle runner keeps running calls, so the model relearns", async () => {
    const clock = manualClock();
    let cost = 2000; // a cold first inference
    const fn: BatchFunction<number, number> = async (items) => {
      clock.t += cost;
      return items;
    };
    const d = new AdaptiveDispatcher(fn, { maxBatchSize: 4, maxLatencyMs: 0, clock });
    await d.call([1]);
    cost = 10;
    expect(d.predict(1)).toBeGreaterThan(1000);
    // Each call's budget (1 s) is below the prediction, yet each runs and the prediction falls.
    for (let i = 0; i < 30; i++) expect(await d.call([i], { deadline: clock.t + 1000 })).toEqual([i]);
    expect(d.predict(1)).toBeLessThan(100);
    expect(d.stats().rejected.deadline).toBe(0);
  });

  it("rejects calls that cannot meet their deadline before they run", async () => {
    const clock = manualClock();
    let hold: Promise<void> | undefined;
    const seen: number[] = [];
    // Each batch costs 2 + 10·n ms of (manual) time.
    const fn: BatchFunction<number, number> = async (items) => {
      seen.push(...items);
      if (hold) await hold;
      clock.t += 2 + 10 * items.length;
      return items;
    };
    const d = new AdaptiveDispatcher(fn, { maxBatchSize: 4, maxLatencyMs: 0, clock });
    await d.call([1]);
    await d.call([2, 3]);
    expect(d.predict(4)).toBeCloseTo(42, 6);

    // A passed deadline is refused at once.
    const passed = await reason(d.call([100], { deadline: clock.t }));
    expect(passed).toMatchObject({ status: 503, code: "deadline" });
    expect(seen).not.toContain(100);
    // Alone, a 1-item batch needs ~12 ms: a 5 ms budget will be missed, but an idle runner runs it anyway,
    // so that a wrong prediction (a cold first inference) can never lock the runner out.
    expect(await d.call([101], { deadline: clock.t + 5 })).toEqual([101]);

    // Behind a queue: block the runner with 4 items, queue 8 more; 12+ items ahead need > 100 ms.
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const busy = d.call([4, 5, 6, 7]);
    await new Promise((r) => setImmediate(r));
    const queued = [d.call([8, 9, 10, 11]), d.call([12, 13, 14, 15])];
    const behind = await reason(d.call([200], { deadline: clock.t + 100 }));
    expect(behind).toMatchObject({ code: "deadline" });
    const relaxed = d.call([300], { deadline: clock.t + 10_000 });
    // Accepted at first, but time passes while it waits: it is dropped when its batch forms, not run late.
    const expires = d.call([400], { deadline: clock.t + 200 });
    clock.t += 500;
    hold = undefined;
    release();
    await Promise.all([busy, ...queued]);
    expect(await relaxed).toEqual([300]);
    expect(await reason(expires)).toMatchObject({ code: "deadline" });
    expect(seen).not.toContain(200);
    expect(seen).not.toContain(400);
    expect(d.stats().rejected.deadline).toBe(3);
  });

  it("fails only the bad item's call when the batch function returns an Error at its index", async () => {
    const g = gated((x: string) => (x === "bad" ? new TypeError(`cannot classify ${x}`) : x.length));
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 8, maxLatencyMs: 0 });
    const block = d.call(["x"]);
    await g.started(1);
    const calls = [d.call(["aa"]), d.call(["ok", "bad"]), d.call(["cccc"])];
    g.releaseAll();
    const out = await Promise.allSettled([block, ...calls]);
    expect(out.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((out[1] as PromiseFulfilledResult<number[]>).value).toEqual([2]);
    expect((out[2] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect((out[3] as PromiseFulfilledResult<number[]>).value).toEqual([4]);
    expect(g.batches[1]).toEqual(["aa", "ok", "bad", "cccc"]);
  });

  it("isolates a thrown batch error to the call that caused it (and fails all when isolation is off)", async () => {
    for (const isolateFailures of [true, false]) {
      const g = gated((x: string) => x);
      const throwing: BatchFunction<string, string> = async (items, info) => {
        const out = await g.fn(items, info);
        if (items.includes("boom")) throw new Error("model exploded");
        return out;
      };
      const d = new AdaptiveDispatcher(throwing, { maxBatchSize: 8, maxLatencyMs: 0, isolateFailures });
      const block = d.call(["first"]);
      await g.started(1);
      const calls = [d.call(["a"]), d.call(["boom"]), d.call(["c"])];
      g.releaseAll();
      const out = await Promise.allSettled([block, ...calls]);
      const statuses = out.map((o) => o.status);
      if (isolateFailures) {
        expect(statuses).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
        expect(g.batches.slice(1)).toEqual([["a", "boom", "c"], ["a"], ["boom"], ["c"]]);
      } else {
        expect(statuses).toEqual(["fulfilled", "rejected", "rejected", "rejected"]);
      }
      expect(String((out[2] as PromiseRejectedResult).reason)).toMatch(/model exploded/);
    }
  });

  it("fails every item of a batch whose result has the wrong length, with a clear message", async () => {
    const g = gated((x: number) => x);
    const shortFn: BatchFunction<number, number> = async (items, info) => Array.from(await g.fn(items, info)).slice(1) as number[];
    const d = new AdaptiveDispatcher(shortFn, { maxBatchSize: 8, maxLatencyMs: 0, runner: "r", method: "m" });
    const block = d.call([1]);
    await g.started(1);
    const calls = [d.call([2]), d.call([3])];
    g.releaseAll();
    const errs = await Promise.all([block, ...calls].map(reason));
    for (const e of errs) expect(e).toBeInstanceOf(BatchContractError);
    expect(String((errs[0] as Error).message)).toMatch(/runner r\.m returned 0 results for a batch of 1 items/);
    expect(String((errs[1] as Error).message)).toMatch(/returned 1 results for a batch of 2 items/);
    expect(errs[1]).toMatchObject({ status: 500, code: "batch_contract" });
  });

  it("removes a call whose AbortSignal fires while it is queued", async () => {
    const g = gated((x: number) => x);
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 8, maxLatencyMs: 0 });
    const block = d.call([1]);
    await g.started(1);
    const ac = new AbortController();
    const aborted = d.call([2, 3], { signal: ac.signal });
    const kept = d.call([4]);
    expect(d.stats().queueDepth).toBe(3);
    ac.abort();
    expect(await reason(aborted)).toMatchObject({ status: 503, code: "aborted" });
    expect(d.stats().queueDepth).toBe(1);
    g.releaseAll();
    expect(await kept).toEqual([4]);
    await block;
    expect(g.batches).toEqual([[1], [4]]);
    expect(d.stats().rejected.aborted).toBe(1);
  });

  it("runs each call alone when batching is disabled", async () => {
    const g = gated((x: number) => -x);
    const d = new AdaptiveDispatcher(g.fn, { enabled: false, maxBatchSize: 2 });
    const block = d.call([1]);
    await g.started(1);
    const calls = [d.call([2, 3, 4]), d.call([5])];
    g.releaseAll();
    expect(await Promise.all([block, ...calls])).toEqual([[-1], [-2, -3, -4], [-5]]);
    expect(g.batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it("with the fixed policy holds an idle runner's batch open until it is full or the window ends", async () => {
    const seen: number[][] = [];
    const d = new AdaptiveDispatcher(
      async (items: number[]) => {
        seen.push([...items]);
        return items;
      },
      { maxBatchSize: 3, maxLatencyMs: 40, policy: "fixed" },
    );
    const t0 = performance.now();
    const full = await Promise.all([d.call([1]), d.call([2]), d.call([3])]);
    expect(full).toEqual([[1], [2], [3]]);
    const lone = await d.call([4]);
    const waited = performance.now() - t0;
    expect(lone).toEqual([4]);
    expect(seen).toEqual([[1, 2, 3], [4]]);
    expect(waited).toBeGreaterThanOrEqual(35); // the lone call waited out (most of) its 40 ms window
  });

  it("reconfigures at run time: new batch bounds apply to queued calls, values are clamped, the model resets on request", async () => {
    const g = gated((x: number) => x);
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 4, maxLatencyMs: 0 });
    expect(d.settings()).toEqual({ enabled: true, maxBatchSize: 4, maxLatencyMs: 0, policy: "adaptive" });
    const block = d.call([0]);
    await g.started(1);
    const queued = [1, 2, 3, 4, 5].map((i) => d.call([i]));
    expect(d.reconfigure({ maxBatchSize: 2 })).toEqual({ enabled: true, maxBatchSize: 2, maxLatencyMs: 0, policy: "adaptive" });
    g.releaseAll();
    await Promise.all([block, ...queued]);
    expect(g.batches).toEqual([[0], [1, 2], [3, 4], [5]]);
    expect(d.reconfigure({ enabled: false, maxLatencyMs: 7, policy: "fixed", resetModel: true })).toEqual({
      enabled: false,
      maxBatchSize: 2,
      maxLatencyMs: 7,
      policy: "fixed",
    });
    expect(d.stats().model.kind).toBe("none");
    expect(d.reconfigure({ maxBatchSize: 0.5, maxLatencyMs: -3 })).toMatchObject({ maxBatchSize: 1, maxLatencyMs: 0 });
  });

  it("groups items of similar length so padding stays small, serving the oldest item first", async () => {
    const texts = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? "s".repeat(5) : "l".repeat(200)));
    const run = async (groupByLength: boolean) => {
      const g = gated((x: string) => x.length);
      const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 8, maxLatencyMs: 0, groupByLength });
      const block = d.call(["warm"]);
      await g.started(1);
      const calls = texts.map((t) => d.call([t]));
      g.releaseAll();
      await block;
      expect((await Promise.all(calls)).flat()).toEqual(texts.map((t) => t.length));
      const batches = g.batches.slice(1);
      const padded = batches.reduce((s, b) => s + b.length * Math.max(...b.map((x) => x.length)), 0);
      return { batches, padded };
    };
    const grouped = await run(true);
    const plain = await run(false);
    for (const b of grouped.batches) {
      const lens = b.map((x) => x.length);
      expect(Math.max(...lens) / Math.min(...lens)).toBeLessThanOrEqual(2);
    }
    expect(grouped.batches[0]?.[0]).toBe(texts[0]);
    const real = texts.reduce((s, t) => s + t.length, 0);
    expect(plain.padded).toBeGreaterThan(1.8 * real);
    expect(grouped.padded).toBe(real);
  });

  it("gives batched results equal to unbatched results on random request mixes", async () => {
    // A pure-JS "model": pads rows to the batch's longest, float32 math, masked mean pooling.
    const W = Float32Array.from({ length: 16 }, (_, i) => Math.fround(Math.sin(i + 1) * 0.5));
    const model: BatchFunction<number[], number[]> = async (rows) => {
      const width = Math.max(...rows.map((r) => r.length));
      const data = new Float32Array(rows.length * width);
      const mask = new Float32Array(rows.length * width);
      rows.forEach((r, i) => {
        r.forEach((v, j) => {
          data[i * width + j] = v;
          mask[i * width + j] = 1;
        });
      });
      await new Promise((r) => setImmediate(r));
      return rows.map((_, i) => {
        const out = new Float32Array(4);
        let count = 0;
        for (let j = 0; j < width; j++) {
          const m = mask[i * width + j] as number;
          count += m;
          const x = data[i * width + j] as number;
          for (let k = 0; k < 4; k++) out[k] = Math.fround((out[k] as number) + m * Math.tanh(x * (W[(j + k) % 16] as number)));
        }
        return Array.from(out, (v) => v / count);
      });
    };
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 5; round++) {
      const maxBatchSize = 1 + Math.floor(rand() * 12);
      const d = new AdaptiveDispatcher(model, { maxBatchSize, maxLatencyMs: rand() * 3, groupByLength: round % 2 === 0 });
      const requests = Array.from({ length: 60 }, () =>
        Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Array.from({ length: 1 + Math.floor(rand() * 30) }, () => rand() * 4 - 2)),
      );
      const batched = await Promise.all(requests.map((items) => d.call(items)));
      const unbatched = await Promise.all(requests.map((items) => Promise.all(items.map(async (it) => (await model([it], {}))[0]))));
      const totalItems = requests.reduce((s, r) => s + r.length, 0);
      expect(d.stats().items).toBe(totalItems);
      if (maxBatchSize > 1) expect(d.stats().batches).toBeLessThan(totalItems);
      batched.forEach((res, i) => {
        res.forEach((row, j) => {
          row.forEach((v, k) => {
            expect(Math.abs(v - ((unbatched[i]![j] as number[])[k] as number))).toBeLessThan(1e-5);
          });
        });
      });
    }
  });

  it("learns t(n) = a + b·n and follows it when execution slows down", async () => {
    const clock = manualClock();
    let perItem = 2;
    const fn: BatchFunction<number, number> = (items) => {
      clock.t += 5 + perItem * items.length;
      return items;
    };
    const opts: DispatcherOptions = { maxBatchSize: 16, maxLatencyMs: 0, clock };
    const d = new AdaptiveDispatcher(fn, opts);
    const sizes = [1, 7, 3, 16, 2, 9, 12, 4, 5, 11];
    for (let round = 0; round < 4; round++) for (const n of sizes) await d.call(Array.from({ length: n }, (_, i) => i));
    expect(d.stats().model.kind).toBe("linear");
    expect(d.stats().model.b).toBeCloseTo(2, 6);
    expect(d.stats().model.a).toBeCloseTo(5, 6);
    perItem = 4;
    const slopes: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (const n of sizes) await d.call(Array.from({ length: n }, (_, i) => i));
      slopes.push(d.stats().model.b);
    }
    expect(slopes[0]).toBeGreaterThan(2.5);
    for (let i = 1; i < slopes.length; i++) expect(slopes[i]).toBeGreaterThanOrEqual((slopes[i - 1] as number) - 1e-9);
    expect(slopes.at(-1)).toBeGreaterThan(3.9);
    expect(slopes.at(-1)).toBeLessThanOrEqual(4 + 1e-9);
  });

  it("drains queued work on close and refuses new calls", async () => {
    const g = gated((x: number) => x);
    const d = new AdaptiveDispatcher(g.fn, { maxBatchSize: 2, maxLatencyMs: 50 });
    const block = d.call([1]);
    await g.started(1);
    const queued = d.call([2, 3, 4]);
    const closed = d.close();
    expect(await reason(d.call([5]))).toMatchObject({ code: "not_ready" });
    g.releaseAll();
    await closed;
    expect(await Promise.all([block, queued])).toEqual([[1], [2, 3, 4]]);
  });
});
