/**
 * Getting ended spans out of the process: a batching queue with the BatchSpanProcessor's contract
 * (`OTEL_BSP_*` settings; a full queue drops spans instead of slowing requests; one export in flight at
 * a time) in front of an OTLP/HTTP exporter that POSTs one encoded `ExportTraceServiceRequest` per batch
 * over a keep-alive `node:http(s)` agent.
 *
 * Defaults: queue 8192 spans, 2048 per POST, delay 5 s, timeout 30 s. The SDK's are 2048 and 512; one
 * POST costs the process ~0.1–0.3 ms of CPU (node:http client, loopback/network stack), which at 512
 * spans was ~1 µs per traced request on the echo benchmark, so bentoc sends 4× fewer, larger requests
 * (~300 KB of protobuf). Memory bound: 8192 records, about 3 MB. `OTEL_BSP_*` still set any of them.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { SpanRecord } from "./span-record.ts";

export interface SpanExporter {
  /** Send these spans; resolves when done (failures are dropped, not thrown). */
  export(spans: readonly SpanRecord[]): Promise<void>;
  shutdown(): Promise<void>;
}

export interface SpanEncoder {
  readonly contentType: string;
  /** The body; it may be a view of the encoder's buffer, valid until the next call (one export at a time). */
  encode(spans: readonly SpanRecord[]): Buffer;
}

export interface BatchSettings {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== "" && Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

/** `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT`. */
export function batchSettings(env: Readonly<Record<string, string | undefined>>): BatchSettings {
  const maxQueueSize = positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE, 8192);
  return {
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 2048)),
    scheduledDelayMillis: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY, 5000),
    exportTimeoutMillis: positiveInt(env.OTEL_BSP_EXPORT_TIMEOUT, 30_000),
  };
}

export class BatchQueue {
  private queue: SpanRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** Spans dropped because the queue was full. */
  dropped = 0;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly settings: BatchSettings,
  ) {}

  /** A span ended: queue it (or drop it when the queue is full). */
  readonly add = (span: SpanRecord): void => {
    if (this.stopped) return;
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.settings.maxExportBatchSize) {
      if (this.inFlight === undefined) this.exportNext();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.inFlight === undefined) this.exportNext();
      }, this.settings.scheduledDelayMillis);
      this.timer.unref();
    }
  };

  private exportNext(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const batch = this.queue.length <= this.settings.maxExportBatchSize ? this.queue : this.queue.slice(0, this.settings.maxExportBatchSize);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    const done = this.exporter.export(batch).finally(() => {
      this.inFlight = undefined;
      if (this.queue.length >= this.settings.maxExportBatchSize) this.exportNext();
      else if (this.queue.length > 0 && this.timer === undefined && !this.stopped) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (this.inFlight === undefined) this.exportNext();
        }, this.settings.scheduledDelayMillis);
        this.timer.unref();
      }
    });
    this.inFlight = done;
  }

  /** Export everything queued so far. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight !== undefined) await this.inFlight;
      else if (this.queue.length > 0) this.exportNext();
      else return;
    }
  }

  async shutdown(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.exporter.shutdown();
  }
}

/** POST each batch, encoded, to an OTLP/HTTP traces URL. Non-2xx answers and network errors drop the batch. */
export function otlpHttpExporter(options: {
  url: string;
  headers: Readonly<Record<string, string>>;
  encoder: SpanEncoder;
  timeoutMillis: number;
}): SpanExporter {
  const url = new URL(options.url);
  const https = url.protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 2 }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  const send = https ? httpsRequest : httpRequest;
  const headers = { ...options.headers, "content-type": options.encoder.contentType };
  return {
    export(spans) {
      if (spans.length === 0) return Promise.resolve();
      let body: Buffer;
      try {
        body = options.encoder.encode(spans);
      } catch {
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const req = send(
          url,
          { method: "POST", agent, headers: { ...headers, "content-length": String(body.length) }, timeout: options.timeoutMillis },
          (res) => {
            res.resume();
            res.once("end", resolve);
            res.once("error", () => resolve());
          },
        );
        req.once("timeout", () => req.destroy());
        req.once("error", () => resolve());
        req.end(body);
      });
    },
    async shutdown() {
      agent.destroy();
    },
  };
}
