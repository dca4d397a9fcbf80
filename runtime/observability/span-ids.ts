/**
 * Random W3C trace and span ids as lowercase hex, cut from a pool of 4 KiB of random bytes whose hex text
 * is made once per refill: an id is then a slice of that string (no native call, no copy; ~128 requests
 * per refill). The bytes come from `Math.random()` (V8's xorshift128+), as in the OpenTelemetry JS SDK's
 * RandomIdGenerator: ids must be unique and unpredictable enough to sample on, not secret, and
 * `crypto.randomFillSync` cost ~2 % of a traced echo server's CPU. All-zero ids are invalid in W3C Trace
 * Context; a zero id is redrawn.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolHex = "";
let at = POOL_SIZE;

function take(bytes: number): string {
  for (;;) {
    if (at + bytes > POOL_SIZE) {
      for (let i = 0; i < POOL_SIZE; i += 4) pool.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
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
