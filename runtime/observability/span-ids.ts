/**
 * Random W3C trace and span ids as lowercase hex, cut from a pool of random bytes refilled 4 KiB at a
 * time (one `randomFillSync` per 256 spans instead of one per id). All-zero ids are invalid in W3C Trace
 * Context; a zero id is redrawn.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let at = POOL_SIZE;

function take(bytes: number): string {
  for (;;) {
    if (at + bytes > POOL_SIZE) {
      randomFillSync(pool);
      at = 0;
    }
    const start = at;
    at += bytes;
    let zero = true;
    for (let i = start; i < at; i++) {
      if (pool[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (!zero) return pool.toString("hex", start, at);
  }
}

/** 16 random bytes, 32 hex digits. */
export function newTraceId(): string {
  return take(16);
}

/** 8 random bytes, 16 hex digits. */
export function newSpanId(): string {
  return take(8);
}
