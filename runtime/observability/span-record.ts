/**
 * bentoc's own span: one plain object per recorded span, holding exactly what OTLP exports (ids as hex,
 * times as `performance.now()` milliseconds, attributes as one key, value, key, value… array, events and links
 * only when there are any). It is also the `SpanHandle` the servers and runners hold. Unsampled spans
 * never get one: `tracing.ts` decides sampling first and hands out a constant-shaped pass-on handle.
 *
 * The record is what the OpenTelemetry SDK's `Span` + `ReadableSpan` would be for our four span kinds,
 * without the context objects, attribute sanitising copies and hrtime tuples that made each SDK span
 * cost several µs (bench/results/http-telemetry-overhead.md, "Where it goes").
 */
import type { SpanHandle } from "./telemetry.ts";

export type AttributeValue = string | number | boolean;

/** OTLP SpanKind numbers. */
export const KIND_INTERNAL = 1;
export const KIND_SERVER = 2;

/** OTLP status codes. */
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;

/** OTLP span flags: the W3C sampled bit plus "has is_remote" (0x100) and "parent is remote" (0x200). */
const FLAGS_ROOT = 0x101;
const FLAGS_CHILD = 0x301;

export interface SpanEvent {
  name: string;
  /** `performance.now()` ms. */
  time: number;
  /** key, value, key, value, … */
  attributes: (string | AttributeValue)[];
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const STATUS_KEY_A = "http.status_code";
const STATUS_KEY_B = "http.response.status_code";

export class SpanRecord implements SpanHandle {
  /**
   * The span whose `traceparent` was handed out last. The next span is usually its child (request →
   * handler → runner call), so `tracing.ts` checks this before parsing the parent's traceparent.
   */
  static lastHandedOut: SpanRecord | null = null;

  /** `performance.now()` ms; -1 while the span is open. */
  endTime = -1;
  statusCode = STATUS_UNSET;
  statusMessage = "";
  events: SpanEvent[] | null = null;
  links: SpanLink[] | null = null;
  /** Attributes: key, value, key, value, … */
  readonly attributes: (string | AttributeValue)[] = [];
  private tp: string | undefined = undefined;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    /** "" for a root span. */
    readonly parentSpanId: string,
    readonly name: string,
    readonly kind: number,
    readonly startTime: number,
    private readonly onEnd: (span: SpanRecord) => void,
  ) {}

  get flags(): number {
    return this.parentSpanId === "" ? FLAGS_ROOT : FLAGS_CHILD;
  }

  get traceparent(): string {
    if (this.tp === undefined) this.tp = `00-${this.traceId}-${this.spanId}-01`;
    SpanRecord.lastHandedOut = this;
    return this.tp;
  }

  /** Whether `traceparent` is this span's own, already handed out (an identity check first). */
  handedOut(traceparent: string): boolean {
    return this.tp !== undefined && this.tp === traceparent;
  }

  setAttribute(key: string, value: AttributeValue): void {
    const a = this.attributes;
    let i = 0;
    while (i < a.length && a[i] !== key) i += 2;
    if (i < a.length) a[i + 1] = value;
    else a.push(key, value);
    if (typeof value === "number" && value >= 500 && (key === STATUS_KEY_A || key === STATUS_KEY_B)) this.statusCode = STATUS_ERROR;
  }

  /** `attributes`: key, value, key, value, … */
  addEvent(name: string, attributes: (string | AttributeValue)[]): void {
    const event = { name, time: performance.now(), attributes };
    if (this.events === null) this.events = [event];
    else this.events.push(event);
  }

  end(error?: unknown): void {
    if (this.endTime >= 0) return;
    if (error !== undefined && error !== null) {
      if (error instanceof Error) {
        const attributes = ["exception.type", error.name, "exception.message", error.message];
        if (error.stack) attributes.push("exception.stacktrace", error.stack);
        this.addEvent("exception", attributes);
      }
      this.statusCode = STATUS_ERROR;
      this.statusMessage = error instanceof Error ? error.message : String(error);
    }
    this.endTime = performance.now();
    this.onEnd(this);
  }
}
