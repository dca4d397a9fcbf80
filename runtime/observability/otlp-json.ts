/**
 * OTLP/HTTP JSON encoding (`application/json`) of an `ExportTraceServiceRequest`, per the OTLP JSON
 * mapping: ids as lowercase hex, times as decimal strings of Unix nanoseconds, integers as `intValue`,
 * other numbers as `doubleValue`. Chosen with `tracing.protocol: http/json` (or
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json`); protobuf is the default.
 */
import type { SpanBatch } from "./otlp-protobuf.ts";
import type { AttributeValue, SpanRecord } from "./span-record.ts";
import { epochNanosString } from "./span-time.ts";

type JsonAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: number } | { doubleValue: number };

function anyValue(v: AttributeValue): JsonAnyValue {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "boolean") return { boolValue: v };
  return Number.isSafeInteger(v) ? { intValue: v } : { doubleValue: v };
}

/** `list` is key, value, key, value, … */
function attributes(list: readonly (string | AttributeValue)[]): { key: string; value: JsonAnyValue }[] {
  const out: { key: string; value: JsonAnyValue }[] = [];
  for (let i = 0; i < list.length; i += 2) out.push({ key: list[i] as string, value: anyValue(list[i + 1]!) });
  return out;
}

function span(s: SpanRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: epochNanosString(s.startTime),
    endTimeUnixNano: epochNanosString(s.endTime),
    attributes: attributes(s.attributes),
    status: s.statusMessage ? { code: s.statusCode, message: s.statusMessage } : { code: s.statusCode },
    flags: s.flags,
  };
  if (s.parentSpanId !== "") out["parentSpanId"] = s.parentSpanId;
  if (s.events !== null) out["events"] = s.events.map((e) => ({ timeUnixNano: epochNanosString(e.time), name: e.name, attributes: attributes(e.attributes) }));
  if (s.links !== null) out["links"] = s.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, flags: (l.traceFlags & 0xff) | 0x300 }));
  return out;
}

/** A JSON batch: each span is converted and stringified when it ends; the body joins them. */
export function jsonBatch(resource: Readonly<Record<string, AttributeValue>>, scope: { name: string; version: string }): SpanBatch {
  const resourceJson = { attributes: attributes(Object.entries(resource).flat()) };
  const prefix = `{"resourceSpans":[{"resource":${JSON.stringify(resourceJson)},"scopeSpans":[{"scope":${JSON.stringify(scope)},"spans":[`;
  const suffix = "]}]}]}";
  let parts: string[] = [];
  return {
    contentType: "application/json",
    get count() {
      return parts.length;
    },
    add(s) {
      parts.push(JSON.stringify(span(s)));
    },
    body() {
      return Buffer.from(prefix + parts.join(",") + suffix, "utf8");
    },
    reset() {
      parts = [];
    },
  };
}
