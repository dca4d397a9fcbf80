/**
 * Random W3C trace and span ids as lowercase hex, cut from a pool of 4 KiB of `crypto.randomFillSync`
 * bytes whose hex text is made once per refill: an id is then a slice of that string (no native call,
 * no copy; ~128 requests per refill). All-zero ids are invalid in W3C Trace Context; a zero id is redrawn.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolHex = "";
let at = POOL_SIZE;

function take(bytes: number): string {
  for (;;) {
    if (at + bytes > POOL_SIZE) {
      randomFillSync(pool);
      poolHex = pool.toString("hex");
      at = 0;
    }
    const start = at;
    at += bytes;
    for (let i = start; i < at; i++) if (pool[i] !== 0) return poolHex.slice(2 * start, 2 * at);
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
