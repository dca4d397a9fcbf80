/**
 * Span times are `performance.now()` milliseconds (monotonic, cheap); OTLP wants Unix epoch nanoseconds
 * as a 64-bit integer. `epochNanos(ms)` converts exactly (no BigInt, no precision lost to doubles past
 * 2^53) into the two 32-bit halves `epochNanos.lo` / `epochNanos.hi`; `epochNanosString` gives the
 * decimal string OTLP JSON uses.
 */
const TWO32 = 0x1_0000_0000;

// performance.timeOrigin as whole nanoseconds, split into 32-bit halves once.
const originNs = BigInt(Math.round(performance.timeOrigin * 1e3)) * 1000n;
const ORIGIN_LO = Number(originNs & 0xffff_ffffn);
const ORIGIN_HI = Number(originNs >> 32n);

export const epochNanos = Object.assign(
  (ms: number): void => {
    const ns = Math.round(ms * 1e6); // exact below 2^53 ns (104 days of uptime), 2-ns steps after
    const tHi = Math.floor(ns / TWO32);
    let lo = ORIGIN_LO + (ns - tHi * TWO32);
    let hi = ORIGIN_HI + tHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    epochNanos.lo = lo;
    epochNanos.hi = hi;
  },
  { lo: 0, hi: 0 },
);

export function epochNanosString(ms: number): string {
  epochNanos(ms);
  return ((BigInt(epochNanos.hi) << 32n) | BigInt(epochNanos.lo)).toString();
}
