/**
 * What crosses the worker boundary: errors as plain objects (structured clone drops `status`/`code`),
 * and the list of ArrayBuffers that can be transferred instead of copied.
 */
export interface WireError {
  __bentocError: true;
  name: string;
  message: string;
  status?: number;
  code?: string;
}

export function toWireError(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  const out: WireError = { __bentocError: true, name: e.name, message: e.message };
  const { status, code } = e as { status?: unknown; code?: unknown };
  if (typeof status === "number") out.status = status;
  if (typeof code === "string") out.code = code;
  return out;
}

export function isWireError(v: unknown): v is WireError {
  return typeof v === "object" && v !== null && (v as { __bentocError?: unknown }).__bentocError === true;
}

export function fromWireError(w: WireError): Error {
  const err = new Error(w.message) as Error & { status?: number; code?: string };
  err.name = w.name;
  if (w.status !== undefined) err.status = w.status;
  if (w.code !== undefined) err.code = w.code;
  return err;
}

/** Result items with per-item Errors made cloneable. */
export function encodeResults(results: ArrayLike<unknown>): unknown[] {
  return Array.from(results, (r) => (r instanceof Error ? toWireError(r) : r));
}

export function decodeResults(results: unknown[]): unknown[] {
  return results.map((r) => (isWireError(r) ? fromWireError(r) : r));
}

/**
 * ArrayBuffers owned outright by typed arrays inside `value` (depth-limited). A view on part of a buffer
 * (e.g. Node's pooled Buffers) is copied instead: transferring would detach memory others still use.
 */
export function transferables(value: unknown, depth = 4, out = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const buf = value.buffer;
    if (buf instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buf.byteLength && buf.byteLength > 0) out.add(buf);
  } else if (depth > 0 && value !== null && typeof value === "object") {
    for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, depth - 1, out);
  }
  return [...out];
}
