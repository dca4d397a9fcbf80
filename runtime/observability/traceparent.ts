/**
 * W3C Trace Context `traceparent` parsing and formatting (https://www.w3.org/TR/trace-context/), for
 * span links, for log lines (`traceIdOf`) and for passing a span on to runners.
 */
export interface ParsedTraceparent {
  traceId: string;
  spanId: string;
  traceFlags: number;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** The parts of a valid `traceparent`, or undefined (malformed, version ff, all-zero ids). */
export function parseTraceparent(header: string | undefined | null): ParsedTraceparent | undefined {
  if (!header) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === "ff" || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  // Version 00 has exactly four fields; later versions may append more.
  if (version === "00" && rest !== undefined) return undefined;
  const traceFlags = parseInt(flags!, 16);
  return { traceId: traceId!, spanId: spanId!, traceFlags, sampled: (traceFlags & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, traceFlags: number): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The trace id of a `traceparent`, for the `trace_id` field of log lines. */
export function traceIdOf(traceparent: string | undefined | null): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}
