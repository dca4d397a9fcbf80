/**
 * OpenTelemetry tracing, exported over OTLP/HTTP (protobuf by default, JSON on request). Off by
 * default: with sample rate 0 and no endpoint nothing is created and every span call returns a constant
 * no-op handle.
 *
 * Spans:
 * - `startRequestSpan`  server span per HTTP request, child of the client's `traceparent` when present
 * - `startHandlerSpan`  internal span around the API handler, child of the request span
 * - `startRunnerSpan`   one runner call; when a batch takes it, it gets a `batch.started` event and the
 *                       attribute `bentoc.queue_wait_seconds` (time from call to batch start)
 * - `startBatchSpan`    one batch execution, a root span with a **link** to every call it served; it is
 *                       sampled when any linked call is sampled, so a sampled trace never loses its batch
 *
 * Sampling: `ParentBased(ratio(sampleRate))` — a sampled parent from the client is honoured even at rate
 * 0, an unsampled one is honoured at rate 1. It is decided before anything is allocated: an unsampled
 * span is only a `traceparent` to pass on. A sampled span is a `SpanRecord` (span-record.ts), queued when
 * it ends (span-export.ts) and encoded straight from the record (otlp-protobuf.ts / otlp-json.ts); the
 * OpenTelemetry SDK's span objects, context and exporter pipeline cost ~10× more per span (issue 16).
 * Users' own spans join ours through `ctx.traceparent` and the @opentelemetry/api propagator, as before.
 */
import { createRequire } from "node:module";
import type * as OtelCore from "@opentelemetry/core";
import type * as OtelResources from "@opentelemetry/resources";
import type { OtlpProtocol, TracingConfig } from "../config/config-types.ts";
import type { Logger } from "../logging/logger.ts";
import { jsonBatch } from "./otlp-json.ts";
import { protobufBatch } from "./otlp-protobuf.ts";
import { batchSettings, EncodingQueue, otlpHttpSender, type SpanProcessor } from "./span-export.ts";
import { newSpanId, newTraceId } from "./span-ids.ts";
import { type AttributeValue, KIND_INTERNAL, KIND_SERVER, type SpanLink, SpanRecord } from "./span-record.ts";
import { noopTelemetry, type SpanHandle } from "./telemetry.ts";
import { parseTraceparent } from "./traceparent.ts";

// @opentelemetry/core and /resources (CommonJS) load only when an OTEL_* key-value variable is set or tracing
// is on: with tracing off, as by default, neither is in the process.
const require = createRequire(import.meta.url);
const parseKeyPairsIntoRecord = (value: string | undefined): Record<string, string> =>
  value === undefined ? {} : (require("@opentelemetry/core") as typeof OtelCore).parseKeyPairsIntoRecord(value);
const defaultResource = (): ReturnType<typeof OtelResources.defaultResource> => (require("@opentelemetry/resources") as typeof OtelResources).defaultResource();

/** Attribute and event names this module writes (stable: dashboards and tests read them). */
export const SPAN_ATTRIBUTES = {
  runner: "bentoc.runner",
  method: "bentoc.method",
  batchSize: "bentoc.batch.size",
  queueWaitSeconds: "bentoc.queue_wait_seconds",
  batchSpanId: "bentoc.batch.span_id",
  endpoint: "bentoc.endpoint",
  requestId: "http.request_id",
} as const;
export const BATCH_STARTED_EVENT = "batch.started";

export interface TracingOptions {
  config: TracingConfig;
  serviceName: string;
  serviceVersion: string;
  /** Environment to read `OTEL_*` from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Send ended spans somewhere else than OTLP/HTTP (benchmarks: a processor that drops them). */
  processor?: SpanProcessor;
  /** Where a dropped export batch is reported (a warning, at most one a minute: see `droppedExportWarner`). */
  logger: Logger;
}

export interface TracingSettings {
  enabled: boolean;
  sampleRate: number;
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  headers: Record<string, string>;
  /** Body encoding: "http/protobuf" (default) or "http/json". */
  protocol: OtlpProtocol;
}

export interface Tracing {
  readonly enabled: boolean;
  readonly settings: TracingSettings;
  startRequestSpan(name: string, traceparent: string | undefined): SpanHandle;
  startHandlerSpan(endpoint: string, parent: string | undefined): SpanHandle;
  startRunnerSpan(runner: string, method: string, parent: string | undefined): SpanHandle;
  startBatchSpan(runner: string, method: string, links: readonly (string | undefined)[]): SpanHandle;
  /** Export everything ended so far. */
  flush(): Promise<void>;
  /** Flush and stop exporting. */
  shutdown(): Promise<void>;
}

export const DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces";
const RATIO_SAMPLERS = new Set(["traceidratio", "parentbased_traceidratio"]);
const OFF_SAMPLERS = new Set(["always_off", "parentbased_always_off"]);

function clampRate(rate: number): number {
  return Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 0;
}

/**
 * What `createTracing` will do, from bentoc config and standard `OTEL_*` variables:
 * - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turns tracing off.
 * - the rate is `tracing.sampleRate`; when that is 0, `OTEL_TRACES_SAMPLER=[parentbased_]traceidratio`
 *   with `OTEL_TRACES_SAMPLER_ARG`, or `[parentbased_]always_on`, supplies it.
 * - tracing is on when the rate is > 0 or an endpoint is known (`tracing.endpoint`, else
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`; the default
 *   is http://localhost:4318/v1/traces); an endpoint with rate 0 still records traces whose client
 *   `traceparent` says "sampled".
 * - headers: `OTEL_EXPORTER_OTLP_HEADERS` < `OTEL_EXPORTER_OTLP_TRACES_HEADERS` < `tracing.headers`.
 * - protocol: `tracing.protocol`, else `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`,
 *   else http/protobuf (`grpc` is not supported and means http/protobuf).
 */
export function resolveTracingSettings(config: TracingConfig, env: Readonly<Record<string, string | undefined>> = process.env): TracingSettings {
  let sampleRate = clampRate(config.sampleRate);
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (sampleRate === 0 && sampler) {
    if (RATIO_SAMPLERS.has(sampler)) {
      const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? "1");
      sampleRate = clampRate(Number.isNaN(arg) ? 1 : arg);
    } else if (sampler === "always_on" || sampler === "parentbased_always_on") {
      sampleRate = 1;
    }
  }
  const envEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const envBase = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const explicit = config.endpoint ?? envEndpoint ?? (envBase ? `${envBase.replace(/\/+$/, "")}/v1/traces` : undefined);
  const disabled =
    env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true" ||
    env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === "none" ||
    (sampler !== undefined && OFF_SAMPLERS.has(sampler) && config.sampleRate <= 0);
  const enabled = !disabled && (sampleRate > 0 || explicit !== undefined);
  const headers = {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    ...config.headers,
  };
  const protocol = config.protocol ?? otlpProtocol(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? otlpProtocol(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? "http/protobuf";
  return { enabled, sampleRate, endpoint: explicit ?? DEFAULT_ENDPOINT, headers, protocol };
}

function otlpProtocol(v: string | undefined): OtlpProtocol | undefined {
  const t = v?.trim().toLowerCase();
  if (t === "http/json") return "http/json";
  if (t === "http/protobuf" || t === "grpc") return "http/protobuf";
  return undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** Resource attributes: SDK defaults < manifest name/version < OTEL_RESOURCE_ATTRIBUTES < OTEL_SERVICE_NAME. */
export function resourceAttributes(serviceName: string, serviceVersion: string, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const attrs: Record<string, string> = {
    "service.name": serviceName,
    "service.version": serviceVersion,
    ...parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES),
  };
  const name = nonEmpty(env.OTEL_SERVICE_NAME);
  if (name) attrs["service.name"] = name;
  return attrs;
}

const noopTracingSpans = {
  startRequestSpan: noopTelemetry.startRequestSpan,
  startHandlerSpan: (_endpoint: string, parent: string | undefined): SpanHandle => noopTelemetry.startRunnerSpan("", "", parent),
  startRunnerSpan: noopTelemetry.startRunnerSpan,
  startBatchSpan: noopTelemetry.startBatchSpan,
};

/** A span that is not sampled: only its `traceparent` (flag 00), passed on so children are not sampled either. */
class UnsampledSpan implements SpanHandle {
  constructor(readonly traceparent: string) {}
  setAttribute(): void {}
  end(): void {}
}

const unsampledBatch: SpanHandle = { traceparent: undefined, setAttribute() {}, end() {} };
const METHOD_ROUTE = /^([A-Z]+) (\/\S*)$/;
/** A runner span that never ends must not pin memory forever. */
const MAX_OPEN_CALLS = 65_536;

/** A flat copy of a string built by concatenation, so the encoder reads it without walking a rope. */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Span names are few (routes, runners): each is built and flattened once, and reused. */
class NameCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly make: (key: string) => V) {}
  get(key: string): V {
    let v = this.map.get(key);
    if (v === undefined) {
      v = this.make(key);
      if (this.map.size >= 1024) this.map.clear();
      this.map.set(key, v);
    }
    return v;
  }
}

/** A request span's name ("POST /classify") and its `http.method` / `http.route` attributes (key, value, …). */
const requestNames = new NameCache((name) => {
  const m = METHOD_ROUTE.exec(name);
  const attrs = m ? ["http.method", flat(m[1]!), "http.route", flat(m[2]!)] : name.startsWith("/") ? ["http.route", flat(name)] : [];
  return { name: flat(name), attrs };
});
const handlerNames = new NameCache((endpoint) => flat(`api ${endpoint}`));
const runnerNames = new NameCache((runnerMethod) => flat(`runner ${runnerMethod}`));
const batchNames = new NameCache((runnerMethod) => flat(`batch ${runnerMethod}`));

/** How often, at most, a collector that keeps refusing spans is logged. */
export const DROPPED_EXPORT_LOG_INTERVAL_MS = 60_000;

/**
 * Reports batches the exporter gave up on: the first at once (a warning naming the endpoint and why), then
 * at most one line a minute counting the batches dropped since, so a collector that is down does not flood
 * the log.
 */
export function droppedExportWarner(logger: Logger, endpoint: string, now: () => number = Date.now): (problem: string) => void {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let since = 0;
  return (problem) => {
    since++;
    const t = now();
    if (t - lastLogged < DROPPED_EXPORT_LOG_INTERVAL_MS) return;
    logger.warn("trace export failed; spans dropped", { endpoint, problem, droppedBatches: since });
    lastLogged = t;
    since = 0;
  };
}

export function createTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const settings = resolveTracingSettings(options.config, env);
  if (!settings.enabled) {
    return {
      enabled: false,
      settings,
      ...noopTracingSpans,
      flush: async () => {},
      shutdown: async () => {},
    };
  }

  const resource: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(defaultResource().attributes))
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") resource[k] = v;
  Object.assign(resource, resourceAttributes(options.serviceName, options.serviceVersion, env));
  const scope = { name: "bentoc", version: options.serviceVersion };
  const bsp = batchSettings(env);
  const json = settings.protocol === "http/json";
  const queue =
    options.processor ??
    new EncodingQueue(
      () => (json ? jsonBatch(resource, scope) : protobufBatch(resource, scope)),
      otlpHttpSender({
        url: settings.endpoint,
        headers: settings.headers,
        contentType: json ? "application/json" : "application/x-protobuf",
        timeoutMillis: bsp.exportTimeoutMillis,
        onDropped: droppedExportWarner(options.logger, settings.endpoint),
      }),
      bsp,
    );
  const onEnd = queue.onEnd;
  const rate = settings.sampleRate;
  const sampleRoot = (): boolean => rate >= 1 || (rate > 0 && Math.random() < rate);

  /** Runner calls waiting for their batch, by the traceparent they handed out (what the batch gets as links). */
  const openCalls = new Map<string, SpanRecord>();
  const closeCall = (span: SpanRecord): void => {
    openCalls.delete(span.traceparent);
    onEnd(span);
  };

  function root(name: string, kind: number, end: (span: SpanRecord) => void): SpanRecord | UnsampledSpan {
    if (!sampleRoot()) return new UnsampledSpan(`00-${newTraceId()}-${newSpanId()}-00`);
    return new SpanRecord(newTraceId(), newSpanId(), "", name, kind, performance.now(), end);
  }

  /**
   * A span under `parent` (a traceparent) or a new root: a `SpanRecord` when sampled, else an
   * `UnsampledSpan`. Decided before the record exists.
   */
  function start(name: string, kind: number, parent: string | undefined, end: (span: SpanRecord) => void = onEnd): SpanRecord | UnsampledSpan {
    if (parent === undefined) return root(name, kind, end);
    const last = SpanRecord.lastHandedOut;
    if (last?.handedOut(parent)) return new SpanRecord(last.traceId, newSpanId(), last.spanId, name, kind, performance.now(), end);
    const p = parseTraceparent(parent);
    if (p === undefined) return root(name, kind, end);
    if (!p.sampled) return new UnsampledSpan(`00-${p.traceId}-${newSpanId()}-00`);
    return new SpanRecord(p.traceId, newSpanId(), p.spanId, name, kind, performance.now(), end);
  }

  return {
    enabled: true,
    settings,
    startRequestSpan(name, traceparent) {
      const named = requestNames.get(name);
      const span = start(named.name, KIND_SERVER, traceparent);
      if (span instanceof SpanRecord) for (let i = 0; i < named.attrs.length; i++) span.attributes.push(named.attrs[i]!);
      return span;
    },
    startHandlerSpan(endpoint, parent) {
      const span = start(handlerNames.get(endpoint), KIND_INTERNAL, parent);
      if (span instanceof SpanRecord) {
        span.attributes.push(SPAN_ATTRIBUTES.endpoint, endpoint);
      }
      return span;
    },
    startRunnerSpan(runner, method, parent) {
      const span = start(runnerNames.get(`${runner}.${method}`), KIND_INTERNAL, parent, closeCall);
      if (span instanceof SpanRecord) {
        span.attributes.push(SPAN_ATTRIBUTES.runner, runner, SPAN_ATTRIBUTES.method, method);
        if (openCalls.size >= MAX_OPEN_CALLS) openCalls.clear();
        openCalls.set(span.traceparent, span);
      }
      return span;
    },
    startBatchSpan(runner, method, links) {
      const spanLinks: SpanLink[] = [];
      const calls: SpanRecord[] = [];
      let sampled = false;
      for (const tp of links) {
        const call = tp === undefined ? undefined : openCalls.get(tp);
        if (call !== undefined) {
          // One of our own runner calls, still waiting: sampled, no parsing needed.
          calls.push(call);
          spanLinks.push({ traceId: call.traceId, spanId: call.spanId, traceFlags: 1 });
          sampled = true;
          continue;
        }
        const p = parseTraceparent(tp);
        if (!p) continue;
        spanLinks.push({ traceId: p.traceId, spanId: p.spanId, traceFlags: p.traceFlags });
        if (p.sampled) sampled = true;
      }
      // A root span with links: its linked calls decide, as a parent would; none sampled, none recorded.
      // Without any (valid) link it is an ordinary root span.
      if (spanLinks.length > 0 ? !sampled : !sampleRoot()) return unsampledBatch;
      const span = new SpanRecord(newTraceId(), newSpanId(), "", batchNames.get(`${runner}.${method}`), KIND_INTERNAL, performance.now(), onEnd);
      span.attributes.push(SPAN_ATTRIBUTES.runner, runner, SPAN_ATTRIBUTES.method, method, SPAN_ATTRIBUTES.batchSize, links.length);
      span.links = spanLinks;
      // Mark each waiting call with its queue wait and the batch that took it.
      const now = span.startTime;
      for (const call of calls) {
        const wait = (now - call.startTime) / 1000;
        call.setAttribute(SPAN_ATTRIBUTES.queueWaitSeconds, wait);
        call.addEvent(BATCH_STARTED_EVENT, [SPAN_ATTRIBUTES.queueWaitSeconds, wait, SPAN_ATTRIBUTES.batchSpanId, span.spanId]);
      }
      return span;
    },
    flush: () => queue.flush(),
    async shutdown() {
      openCalls.clear();
      await queue.shutdown();
    },
  };
}
