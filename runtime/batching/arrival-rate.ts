/**
 * Arrival-rate estimate of one batchable method: EWMA of the gap between calls and of the items per call.
 * `expectedGap(now)` also grows with the silence since the last arrival, so a stopped stream is noticed
 * without waiting for the next call.
 */
export class ArrivalRate {
  private last: number | undefined;
  private gap: number | undefined;
  private perCall = 1;

  constructor(private readonly alpha = 0.2) {}

  record(now: number, items: number): void {
    if (this.last !== undefined) {
      const g = Math.max(0, now - this.last);
      this.gap = this.gap === undefined ? g : this.gap + this.alpha * (g - this.gap);
    }
    this.last = now;
    this.perCall += this.alpha * (items - this.perCall);
  }

  /** Expected ms until the next call; Infinity before two calls were seen. */
  expectedGap(now: number): number {
    if (this.gap === undefined || this.last === undefined) return Infinity;
    return Math.max(this.gap, now - this.last);
  }

  /** Mean items per call (EWMA). */
  get itemsPerCall(): number {
    return Math.max(1, this.perCall);
  }

  get gapMs(): number | undefined {
    return this.gap;
  }
}
