/**
 * OpenTelemetry tracing over OTLP/HTTP (JSON). Off by default: with sample rate 0 and no endpoint no
 * provider is created and every span call returns a constant no-op handle.
 *
 * Spans:
 * - `startRequestSpan`  server span per HTTP request, child of the client's `traceparent` when present
 * - `startHandlerSpan`  internal span around the API handler, child of the request span
 * - `startRunnerSpan`   one runner call; when a batch takes it, it gets a `batch.started` event and the
 *                       attribute `bentoc.queue_wait_seconds` (time from call to batch start)
 * - `startBatchSpan`    one batch execution, a root span with a **link** to every call it served; it is
 *                       sampled when any linked call is sampled, so a sampled trace never loses its batch
 *
 * Sampling: `ParentBased(TraceIdRatioBased(sampleRate))` — a sampled parent from the client is honoured
 * even at rate 0, an unsampled one is honoured at rate 1.
 */
import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
import type { Attributes, Context, Link, Span, SpanContext, SpanKind } from "@opentelemetry/api";
import type * as OtelCore from "@opentelemetry/core";
import type * as OtelExporter from "@opentelemetry/exporter-trace-otlp-http";
import type * as OtelResources from "@opentelemetry/resources";
import type * as OtelTraceBase from "@opentelemetry/sdk-trace-base";
import type { Sampler, SamplingResult, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TracingConfig } from "../config/config-types.ts";
import { noopTelemetry, type SpanHandle } from "./telemetry.ts";
import { formatTraceparent, parseTraceparent } from "./traceparent.ts";

// The OpenTelemetry packages (CommonJS) load when tracing is on (or an OTEL_* header variable is set), not
// with every server: with tracing off, as by default, none of them is in the process.
const require = createRequire(import.meta.url);
const otelApi = (): typeof OtelApi => require("@opentelemetry/api") as typeof OtelApi;
const otelCore = (): typeof OtelCore => require("@opentelemetry/core") as typeof OtelCore;
const otelTraceBase = (): typeof OtelTraceBase => require("@opentelemetry/sdk-trace-base") as typeof OtelTraceBase;
const parseKeyPairsIntoRecord = (value: string | undefined): Record<string, string> => (value === undefined ? {} : otelCore().parseKeyPairsIntoRecord(value));

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
  /** "batch" (default) or "simple" (export each span as it ends). */
  processor?: "batch" | "simple";
  /** Environment to read `OTEL_*` from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Export somewhere else than OTLP/HTTP (e.g. the SDK's InMemorySpanExporter in benchmarks). */
  exporter?: SpanExporter;
}

export interface TracingSettings {
  enabled: boolean;
  sampleRate: number;
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  headers: Record<string, string>;
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
  return { enabled, sampleRate, endpoint: explicit ?? DEFAULT_ENDPOINT, headers };
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

/**
 * ParentBased(ratio), except for a root span with links (a batch span): its linked calls decide, as a
 * parent would. It is sampled when any of them is, and dropped when none is, so no batch span is
 * exported that links only to calls that were not (it would be an orphan, and skew the sample rate).
 */
class LinkAwareSampler implements Sampler {
  private readonly inner: Sampler;
  private readonly api = otelApi();
  constructor(private readonly rate: number) {
    const { ParentBasedSampler, TraceIdRatioBasedSampler } = otelTraceBase();
    this.inner = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(rate) });
  }
  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const { SamplingDecision, trace } = this.api;
    if (links.length > 0 && trace.getSpanContext(context) === undefined) {
      for (const link of links) {
        if ((link.context.traceFlags & 1) === 1) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      }
      return { decision: SamplingDecision.NOT_RECORD };
    }
    return this.inner.shouldSample(context, traceId, name, kind, attributes, links);
  }
  toString(): string {
    return `LinkAwareSampler{ParentBased{TraceIdRatioBased{${this.rate}}}}`;
  }
}

const noopTracingSpans = {
  startRequestSpan: noopTelemetry.startRequestSpan,
  startHandlerSpan: (_endpoint: string, parent: string | undefined): SpanHandle => noopTelemetry.startRunnerSpan("", "", parent),
  startRunnerSpan: noopTelemetry.startRunnerSpan,
  startBatchSpan: noopTelemetry.startBatchSpan,
};

const STATUS_KEYS = new Set(["http.status_code", "http.response.status_code"]);
const METHOD_ROUTE = /^([A-Z]+) (\/\S*)$/;
/** A runner span that never ends must not pin memory forever. */
const MAX_OPEN_CALLS = 65_536;

class OtelSpanHandle implements SpanHandle {
  constructor(
    readonly span: Span,
    readonly traceparent: string,
    private readonly onEnd?: () => void,
  ) {}
  setAttribute(key: string, value: string | number | boolean): void {
    this.span.setAttribute(key, value);
    if (STATUS_KEYS.has(key) && typeof value === "number" && value >= 500) {
      this.span.setStatus({ code: otelApi().SpanStatusCode.ERROR });
    }
  }
  end(error?: unknown): void {
    if (error !== undefined && error !== null) {
      if (error instanceof Error) this.span.recordException(error);
      this.span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    this.onEnd?.();
    this.span.end();
  }
}

function traceparentOf(span: Span): string {
  const sc = span.spanContext();
  return formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags);
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

  const { ROOT_CONTEXT, SpanKind, defaultTextMapGetter } = otelApi();
  const { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } = otelTraceBase();
  const { defaultResource, resourceFromAttributes } = require("@opentelemetry/resources") as typeof OtelResources;
  const { W3CTraceContextPropagator } = otelCore();
  const exporter =
    options.exporter ??
    new (require("@opentelemetry/exporter-trace-otlp-http") as typeof OtelExporter).OTLPTraceExporter({
      url: settings.endpoint,
      headers: settings.headers,
    });
  const processor: SpanProcessor = options.processor === "simple" ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const resource = defaultResource().merge(resourceFromAttributes(resourceAttributes(options.serviceName, options.serviceVersion, env)));
  const provider = new BasicTracerProvider({
    sampler: new LinkAwareSampler(settings.sampleRate),
    spanProcessors: [processor],
    resource,
  });
  const tracer = provider.getTracer("bentoc", options.serviceVersion);
  const propagator = new W3CTraceContextPropagator();

  const parentContext = (traceparent: string | undefined): Context =>
    traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;

  /** Runner calls waiting for their batch, by span id, with their start time. */
  const openCalls = new Map<string, { span: Span; startedAt: number }>();

  function handle(span: Span, onEnd?: () => void): SpanHandle {
    return new OtelSpanHandle(span, traceparentOf(span), onEnd);
  }

  return {
    enabled: true,
    settings,
    startRequestSpan(name, traceparent) {
      const attributes: Attributes = {};
      const m = METHOD_ROUTE.exec(name);
      if (m) {
        attributes["http.method"] = m[1];
        attributes["http.route"] = m[2];
      } else if (name.startsWith("/")) {
        attributes["http.route"] = name;
      }
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parentContext(traceparent));
      return handle(span);
    },
    startHandlerSpan(endpoint, parent) {
      const span = tracer.startSpan(
        `api ${endpoint}`,
        { kind: SpanKind.INTERNAL, attributes: { [SPAN_ATTRIBUTES.endpoint]: endpoint } },
        parentContext(parent),
      );
      return handle(span);
    },
    startRunnerSpan(runner, method, parent) {
      const span = tracer.startSpan(
        `runner ${runner}.${method}`,
        { kind: SpanKind.INTERNAL, attributes: { [SPAN_ATTRIBUTES.runner]: runner, [SPAN_ATTRIBUTES.method]: method } },
        parentContext(parent),
      );
      if (!span.isRecording()) return handle(span);
      const spanId = span.spanContext().spanId;
      if (openCalls.size >= MAX_OPEN_CALLS) openCalls.clear();
      openCalls.set(spanId, { span, startedAt: performance.now() });
      return handle(span, () => openCalls.delete(spanId));
    },
    startBatchSpan(runner, method, links) {
      const spanLinks: Link[] = [];
      for (const tp of links) {
        const p = parseTraceparent(tp);
        if (!p) continue;
        const context: SpanContext = { traceId: p.traceId, spanId: p.spanId, traceFlags: p.traceFlags, isRemote: true };
        spanLinks.push({ context });
      }
      const span = tracer.startSpan(
        `batch ${runner}.${method}`,
        {
          kind: SpanKind.INTERNAL,
          root: true,
          links: spanLinks,
          attributes: {
            [SPAN_ATTRIBUTES.runner]: runner,
            [SPAN_ATTRIBUTES.method]: method,
            [SPAN_ATTRIBUTES.batchSize]: links.length,
          },
        },
        ROOT_CONTEXT,
      );
      // Mark each waiting call with its queue wait and the batch that took it.
      const now = performance.now();
      const batchSpanId = span.spanContext().spanId;
      for (const link of spanLinks) {
        const call = openCalls.get(link.context.spanId);
        if (!call) continue;
        const wait = (now - call.startedAt) / 1000;
        call.span.setAttribute(SPAN_ATTRIBUTES.queueWaitSeconds, wait);
        call.span.addEvent(BATCH_STARTED_EVENT, {
          [SPAN_ATTRIBUTES.queueWaitSeconds]: wait,
          [SPAN_ATTRIBUTES.batchSpanId]: batchSpanId,
        });
      }
      return handle(span);
    },
    flush: () => provider.forceFlush(),
    async shutdown() {
      openCalls.clear();
      await provider.shutdown();
    },
  };
}
