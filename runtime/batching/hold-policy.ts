/**
 * When the runner is idle and items are queued: dispatch now, or hold the batch open for the next call?
 * Holding n queued items for the next call (m items, expected after gap Δ) costs them n·Δ of latency; the
 * next call then rides in this batch instead of waiting behind it and paying a batch of its own. Comparing
 * the summed latency of both futures under t(k) = a + b·k gives: hold iff (n+m)·Δ + n·m·b < m·a.
 * The window (`remainingMs` until the oldest item has waited maxLatencyMs) and the earliest deadline bound it.
 */
export interface HoldInput {
  /** Items that would go into the batch now. */
  n: number;
  maxBatchSize: number;
  /** ms left until the oldest queued item has waited maxLatencyMs (≤ 0: window closed). */
  remainingMs: number;
  /** Fitted t(k) = a + b·k in ms, or undefined while there is no evidence of a batching benefit. */
  fit: { a: number; b: number } | undefined;
  /** Expected ms until the next call (Infinity when unknown). */
  gapMs: number;
  /** Expected items per call. */
  itemsPerCall: number;
  /** ms until the earliest deadline among queued calls (Infinity when none). */
  slackMs: number;
}

/** 0 to dispatch now, else how many ms to hold the batch open before deciding again. */
export function holdTime(s: HoldInput): number {
  const { n, fit } = s;
  if (n >= s.maxBatchSize || s.remainingMs <= 0 || !fit) return 0;
  const gap = s.gapMs;
  if (!Number.isFinite(gap) || gap >= s.remainingMs) return 0;
  const m = Math.min(s.itemsPerCall, s.maxBatchSize - n);
  if ((n + m) * gap + n * m * fit.b >= m * fit.a) return 0;
  if (gap + fit.a + fit.b * (n + m) > s.slackMs) return 0;
  return Math.min(s.remainingMs, Math.max(gap, 0.5));
}
