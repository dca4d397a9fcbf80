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

/** Lowercase hex digits only, in s[from, to). */
function lowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Some digit other than 0 in s[from, to). */
function nonZero(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 48) return true;
  return false;
}

/** The parts of a valid `traceparent`, or undefined (malformed, version ff, all-zero ids). */
export function parseTraceparent(header: string | undefined | null): ParsedTraceparent | undefined {
  if (!header) return undefined;
  // Fast path for the common case, version 00 without surrounding space (what every span hands out):
  // the same checks as the regular expression below, without the match array.
  if (header.length === 55 && header.charCodeAt(0) === 48 && header.charCodeAt(1) === 48) {
    if (header.charCodeAt(2) !== 45 || header.charCodeAt(35) !== 45 || header.charCodeAt(52) !== 45) return undefined;
    if (!lowerHex(header, 3, 35) || !lowerHex(header, 36, 52) || !lowerHex(header, 53, 55)) return undefined;
    if (!nonZero(header, 3, 35) || !nonZero(header, 36, 52)) return undefined;
    const traceFlags = parseInt(header.slice(53), 16);
    return { traceId: header.slice(3, 35), spanId: header.slice(36, 52), traceFlags, sampled: (traceFlags & 1) === 1 };
  }
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
