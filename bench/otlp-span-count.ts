/**
 * Counts the spans in an OTLP/HTTP trace export body without decoding them, for the benchmarks' sinks
 * (a full decode of every export would load the sink's CPU, which in telemetry-overhead.ts is the
 * measured process). Protobuf: walks the wire format of ExportTraceServiceRequest → ResourceSpans (1) →
 * ScopeSpans (2) and counts field 2 (spans), skipping their bodies. JSON: counts `"kind":` keys.
 * Correctness of the spans themselves is the tests' job (test/helpers/otlp-receiver.ts decodes fully).
 */
function varint(buf: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let shift = 1;
  for (;;) {
    const b = buf[at.pos++]!;
    result += (b & 0x7f) * shift;
    if (b < 0x80) return result;
    shift *= 128;
  }
}

/** Calls `field(fieldNumber, start, end)` for each length-delimited field of the message in buf[from, to). */
function fields(buf: Uint8Array, from: number, to: number, field: (n: number, start: number, end: number) => void): void {
  const at = { pos: from };
  while (at.pos < to) {
    const tag = varint(buf, at);
    const wire = tag & 7;
    if (wire === 0) varint(buf, at);
    else if (wire === 1) at.pos += 8;
    else if (wire === 5) at.pos += 4;
    else if (wire === 2) {
      const len = varint(buf, at);
      field(Math.floor(tag / 8), at.pos, at.pos + len);
      at.pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

export function countOtlpSpans(contentType: string, body: Uint8Array): number {
  if (!contentType.startsWith("application/x-protobuf")) {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
    let n = 0;
    for (let at = text.indexOf('"kind":'); at >= 0; at = text.indexOf('"kind":', at + 7)) n++;
    return n;
  }
  let spans = 0;
  fields(body, 0, body.length, (n, s, e) => {
    if (n !== 1) return;
    fields(body, s, e, (n2, s2, e2) => {
      if (n2 !== 2) return;
      fields(body, s2, e2, (n3) => {
        if (n3 === 2) spans++;
      });
    });
  });
  return spans;
}
