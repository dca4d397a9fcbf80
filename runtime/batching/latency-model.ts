/**
 * The learned execution-time model t(n) = a + b·n of one batchable method: weighted least squares over a
 * sliding window of recent batches, newer batches weighing more (weight decay^age), so the fit follows the
 * runner when execution slows down or speeds up (thermal throttling, a noisy neighbour, longer inputs).
 * Constrained to a ≥ 0 and b ≥ 0: a negative intercept or slope is noise, never physics.
 */
export interface LatencyFit {
  /** Fixed cost of one batch execution, ms (o_a in BentoML). */
  a: number;
  /** Marginal cost of one more item, ms (o_b in BentoML). */
  b: number;
}

export interface LatencyModelSnapshot extends LatencyFit {
  /** Samples in the window. */
  samples: number;
  /** `linear` once batches of at least two sizes were seen; `mean` scales the mean time per item; `none` before any batch. */
  kind: "none" | "mean" | "linear";
}

export interface LatencyModelOptions {
  /** Batches kept (default 64). */
  window?: number;
  /** Weight multiplier per batch of age (default 0.93: half-life ≈ 10 batches). */
  decay?: number;
}

export class LatencyModel {
  private readonly sizes: number[] = [];
  private readonly times: number[] = [];
  private readonly window: number;
  private readonly decay: number;
  private cached: LatencyModelSnapshot | undefined;

  constructor(options: LatencyModelOptions = {}) {
    this.window = Math.max(2, options.window ?? 64);
    this.decay = Math.min(1, Math.max(0.5, options.decay ?? 0.93));
  }

  /** Records one batch execution: `size` items took `ms` milliseconds. */
  record(size: number, ms: number): void {
    if (!(size > 0) || !Number.isFinite(ms) || ms < 0) return;
    this.sizes.push(size);
    this.times.push(ms);
    if (this.sizes.length > this.window) {
      this.sizes.shift();
      this.times.shift();
    }
    this.cached = undefined;
  }

  /** The current fit (cached until the next sample). */
  snapshot(): LatencyModelSnapshot {
    if (this.cached) return this.cached;
    this.cached = this.fit();
    return this.cached;
  }

  /** The linear fit, or undefined while every batch so far had the same size (no evidence about the slope). */
  linear(): LatencyFit | undefined {
    const s = this.snapshot();
    return s.kind === "linear" ? s : undefined;
  }

  /** Predicted execution time of a batch of `size` items, ms; undefined before the first batch. */
  predict(size: number): number | undefined {
    const s = this.snapshot();
    return s.kind === "none" ? undefined : s.a + s.b * size;
  }

  private fit(): LatencyModelSnapshot {
    const count = this.sizes.length;
    if (count === 0) return { a: 0, b: 0, samples: 0, kind: "none" };
    let sw = 0,
      sn = 0,
      st = 0,
      snn = 0,
      snt = 0;
    let w = 1;
    for (let i = count - 1; i >= 0; i--, w *= this.decay) {
      const n = this.sizes[i] as number;
      const t = this.times[i] as number;
      sw += w;
      sn += w * n;
      st += w * t;
      snn += w * n * n;
      snt += w * n * t;
    }
    const meanN = sn / sw;
    const meanT = st / sw;
    const varN = snn / sw - meanN * meanN;
    if (varN <= 1e-9 * Math.max(1, meanN * meanN)) {
      // One batch size only: assume no batching benefit (time proportional to size) until shown otherwise.
      return { a: 0, b: meanT / meanN, samples: count, kind: "mean" };
    }
    let b = (snt / sw - meanN * meanT) / varN;
    let a = meanT - b * meanN;
    if (b < 0) {
      b = 0;
      a = meanT;
    } else if (a < 0) {
      a = 0;
      b = snt / snn;
    }
    return { a, b, samples: count, kind: "linear" };
  }
}
