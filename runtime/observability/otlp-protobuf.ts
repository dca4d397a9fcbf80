/**
 * OTLP/HTTP protobuf encoding (`application/x-protobuf`) of an `ExportTraceServiceRequest`, written by
 * hand for exactly the fields `SpanRecord` holds — field numbers from opentelemetry-proto
 * `trace/v1/trace.proto` and `common/v1/common.proto` (the same ones @opentelemetry/otlp-transformer's
 * serializer writes). The resource and scope are encoded once; each span is written into one reused,
 * growing buffer with plain loops for ASCII strings and hex ids, so a span costs a few hundred ns and
 * no intermediate objects. Nested messages reserve one length byte and shift their body right in the
 * rare case it is 128 bytes or longer.
 */
import type { AttributeValue, SpanEvent, SpanLink, SpanRecord } from "./span-record.ts";
import { epochNanos } from "./span-time.ts";

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (n < 0x80000000) {
      while (n > 0x7f) {
        buf[this.pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      buf[this.pos++] = n;
      return;
    }
    while (n > 0x7f) {
      buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }

  fixed32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(n >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = lo & 0xff;
    buf[p++] = (lo >>> 8) & 0xff;
    buf[p++] = (lo >>> 16) & 0xff;
    buf[p++] = lo >>> 24;
    buf[p++] = hi & 0xff;
    buf[p++] = (hi >>> 8) & 0xff;
    buf[p++] = (hi >>> 16) & 0xff;
    buf[p++] = hi >>> 24;
    this.pos = p;
  }

  double(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  /**
   * The last ids written and where their bytes are: a handler span and its request span end one after the
   * other and share the trace id (and the request's span id is the handler's parent), so those ids are
   * copied as bytes instead of decoded from hex again. Cleared by `reset`.
   */
  private idHex: [string, string] = ["", ""];
  private idAt: [number, number] = [0, 0];
  private idNext = 0;

  reset(pos: number): void {
    this.pos = pos;
    this.idHex[0] = this.idHex[1] = "";
  }

  /** Tag + length + bytes of a hex id (16 or 32 digits). */
  hexField(tag: number, hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = tag;
    buf[p++] = n;
    const from = hex === this.idHex[0] ? this.idAt[0] : hex === this.idHex[1] ? this.idAt[1] : -1;
    if (from >= 0) {
      buf.copyWithin(p, from, from + n);
      this.pos = p + n;
      return;
    }
    const slot = this.idNext;
    this.idNext = slot ^ 1;
    this.idHex[slot] = hex;
    this.idAt[slot] = p;
    for (let i = 0; i < 2 * n; i += 2) buf[p++] = (HEX[hex.charCodeAt(i)]! << 4) | HEX[hex.charCodeAt(i + 1)]!;
    this.pos = p;
  }

  /**
   * Tag + length + UTF-8 of a string: a plain loop when it is short and ASCII, else one native write
   * (which also flattens a concatenated string once instead of walking it per character).
   */
  stringField(tag: number, s: string): void {
    const len = s.length;
    this.ensure(3 * len + 6);
    const buf = this.buf;
    const start = this.pos;
    buf[this.pos++] = tag;
    if (len > 24 && len < 43) {
      // At most 126 UTF-8 bytes: one length byte.
      const n = buf.write(s, this.pos + 1, "utf8");
      buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    if (len <= 24) {
      let p = this.pos;
      buf[p++] = len;
      let ascii = true;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        buf[p++] = c;
      }
      if (ascii) {
        this.pos = p;
        return;
      }
      this.pos = start + 1;
    }
    const bytes = Buffer.byteLength(s, "utf8");
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  /** Start a length-delimited field: the tag and one reserved length byte. */
  begin(tag: number): number {
    this.ensure(2);
    this.buf[this.pos++] = tag;
    this.pos++;
    return this.pos;
  }

  /** Like `begin`, reserving two length bytes: for messages usually 128 bytes to 16 KiB long (spans). */
  begin2(tag: number): number {
    this.ensure(3);
    this.buf[this.pos++] = tag;
    this.pos += 2;
    return this.pos;
  }

  /** Finish a message begun with `begin2`: a two-byte length in place, else back to the one-byte path. */
  finish2(start: number): void {
    const len = this.pos - start;
    if (len >= 128 && len < 16384) {
      this.buf[start - 2] = (len & 0x7f) | 0x80;
      this.buf[start - 1] = len >>> 7;
      return;
    }
    // Rare: move the body one byte left and use the general path (one length byte, or more).
    this.idHex[0] = this.idHex[1] = ""; // ids written in the body move with it
    this.buf.copyWithin(start - 1, start, this.pos);
    this.pos -= 1;
    this.finish(start - 1);
  }

  /** Write the length of the message begun at `start`, moving its body when the length needs more bytes. */
  finish(start: number): void {
    const len = this.pos - start;
    if (len < 128) {
      this.buf[start - 1] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.idHex[0] = this.idHex[1] = ""; // ids written in the body move with it
    this.buf.copyWithin(start + extra, start, this.pos);
    this.pos = start - 1;
    this.varint(len);
    this.pos = start + extra + len;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

// Tags: (field << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
const KV_KEY = 0x0a;
const KV_VALUE = 0x12;
const ANY_STRING = 0x0a;
const ANY_BOOL = 0x10;
const ANY_INT = 0x18;
const ANY_DOUBLE = 0x21;

function writeAttribute(w: Writer, tag: number, key: string, value: AttributeValue): void {
  const kv = w.begin(tag);
  w.stringField(KV_KEY, key);
  const any = w.begin(KV_VALUE);
  if (typeof value === "string") w.stringField(ANY_STRING, value);
  else if (typeof value === "boolean") {
    w.byte(ANY_BOOL);
    w.byte(value ? 1 : 0);
  } else if (Number.isSafeInteger(value) && value >= 0) {
    w.byte(ANY_INT);
    w.varint(value);
  } else if (Number.isSafeInteger(value)) {
    // int64 two's complement as a 10-byte varint.
    w.byte(ANY_INT);
    let v = BigInt.asUintN(64, BigInt(value));
    w.ensure(10);
    while (v > 0x7fn) {
      w.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    w.byte(Number(v));
  } else {
    w.ensure(9);
    w.byte(ANY_DOUBLE);
    w.double(value);
  }
  w.finish(any);
  w.finish(kv);
}

/** `attributes` is key, value, key, value, … */
function writeAttributes(w: Writer, tag: number, attributes: readonly (string | AttributeValue)[]): void {
  for (let i = 0; i < attributes.length; i += 2) writeAttribute(w, tag, attributes[i] as string, attributes[i + 1]!);
}

function writeTime(w: Writer, tag: number, ms: number): void {
  epochNanos(ms);
  w.ensure(9);
  w.byte(tag);
  w.fixed64(epochNanos.lo, epochNanos.hi);
}

// Span fields.
const S_TRACE_ID = 0x0a;
const S_SPAN_ID = 0x12;
const S_PARENT = 0x22;
const S_NAME = 0x2a;
const S_KIND = 0x30;
const S_START = 0x39;
const S_END = 0x41;
const S_ATTR = 0x4a;
const S_EVENT = 0x5a;
const S_LINK = 0x6a;
const S_STATUS = 0x7a;
const S_FLAGS = [0x85, 0x01] as const; // field 16, fixed32: a two-byte tag

function writeEvent(w: Writer, e: SpanEvent): void {
  const at = w.begin(S_EVENT);
  writeTime(w, 0x09, e.time);
  w.stringField(0x12, e.name);
  writeAttributes(w, 0x1a, e.attributes);
  w.finish(at);
}

function writeLink(w: Writer, l: SpanLink): void {
  const at = w.begin(S_LINK);
  w.hexField(0x0a, l.traceId);
  w.hexField(0x12, l.spanId);
  w.ensure(5);
  w.byte(0x35); // field 6 flags, fixed32
  w.fixed32((l.traceFlags & 0xff) | 0x300);
  w.finish(at);
}

function writeSpan(w: Writer, s: SpanRecord): void {
  const at = w.begin2(0x12); // ScopeSpans.spans
  w.hexField(S_TRACE_ID, s.traceId);
  w.hexField(S_SPAN_ID, s.spanId);
  if (s.parentSpanId !== "") w.hexField(S_PARENT, s.parentSpanId);
  w.stringField(S_NAME, s.name);
  w.ensure(2);
  w.byte(S_KIND);
  w.byte(s.kind);
  writeTime(w, S_START, s.startTime);
  writeTime(w, S_END, s.endTime);
  writeAttributes(w, S_ATTR, s.attributes);
  if (s.events !== null) for (const e of s.events) writeEvent(w, e);
  if (s.links !== null) for (const l of s.links) writeLink(w, l);
  const st = w.begin(S_STATUS);
  if (s.statusMessage !== "") w.stringField(0x12, s.statusMessage);
  if (s.statusCode !== 0) {
    w.byte(0x18);
    w.byte(s.statusCode);
  }
  w.finish(st);
  w.ensure(6);
  w.byte(S_FLAGS[0]);
  w.byte(S_FLAGS[1]);
  w.fixed32(s.flags);
  w.finish2(at);
}

/** Spans encoded as they end, into one request body. */
export interface SpanBatch {
  readonly contentType: string;
  /** Spans in the body so far. */
  readonly count: number;
  add(span: SpanRecord): void;
  /**
   * The request body: a view of the batch's own buffer, valid until `reset` (the export queue sends one
   * body at a time and resets the batch after). Copying it out cost 0.2–1.7 ms per 300 KB — a fresh large
   * allocation each time — more than encoding its spans.
   */
  body(): Buffer;
  reset(): void;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * A protobuf batch for one resource and one instrumentation scope. Each span is encoded when it ends,
 * while its record is still in cache; the record is garbage right after, so the queue is bytes (~140
 * per span) rather than thousands of live objects for the garbage collector to copy and promote. The
 * resource and scope are encoded once; the three enclosing length prefixes are written into room kept
 * in front of the spans when the body is taken.
 */
export function protobufBatch(resource: Readonly<Record<string, AttributeValue>>, scope: { name: string; version: string }): SpanBatch {
  const head = new Writer();
  // Resource (ResourceSpans field 1): attributes (field 1).
  const r = head.begin(0x0a);
  for (const [k, v] of Object.entries(resource)) writeAttribute(head, 0x0a, k, v);
  head.finish(r);
  const resourceBytes = Buffer.from(head.buf.subarray(0, head.pos));
  head.pos = 0;
  // InstrumentationScope (ScopeSpans field 1): name, version.
  const sc = head.begin(0x0a);
  head.stringField(0x0a, scope.name);
  head.stringField(0x12, scope.version);
  head.finish(sc);
  const scopeBytes = Buffer.from(head.buf.subarray(0, head.pos));
  // Room for: tag + length (≤ 5 bytes) of resource_spans, the resource, tag + length of scope_spans, the scope.
  const room = 6 + resourceBytes.length + 6 + scopeBytes.length;

  const w = new Writer();
  w.reset(room);
  let count = 0;
  return {
    contentType: "application/x-protobuf",
    get count() {
      return count;
    },
    add(span) {
      writeSpan(w, span);
      count++;
    },
    body() {
      const ssLen = scopeBytes.length + (w.pos - room);
      const rsLen = resourceBytes.length + 1 + varintSize(ssLen) + ssLen;
      const start = room - (1 + varintSize(rsLen) + resourceBytes.length + 1 + varintSize(ssLen) + scopeBytes.length);
      const end = w.pos;
      w.pos = start;
      w.byte(0x0a); // ExportTraceServiceRequest.resource_spans
      w.varint(rsLen);
      w.bytes(resourceBytes);
      w.byte(0x12); // ResourceSpans.scope_spans
      w.varint(ssLen);
      w.bytes(scopeBytes);
      w.pos = end;
      return w.buf.subarray(start, end);
    },
    reset() {
      w.reset(room);
      count = 0;
    },
  };
}
