/**
 * Getting ended spans out of the process: a queue with the BatchSpanProcessor's contract (`OTEL_BSP_*`
 * settings; a full queue drops spans instead of slowing requests; one export in flight at a time) that
 * holds spans already encoded, in front of an OTLP/HTTP sender that POSTs one `ExportTraceServiceRequest`
 * per batch over a keep-alive `node:http(s)` agent.
 *
 * Defaults: queue 8192 spans, 2048 per POST, delay 5 s, timeout 30 s. The SDK's are 2048 and 512; one
 * POST costs the process ~0.1–0.3 ms of CPU (node:http client, loopback/network stack), which at 512
 * spans was ~1 µs per traced request on the echo benchmark, so bentoc sends 4× fewer, larger requests
 * (~300 KB of protobuf). Memory bound: 8192 records, about 3 MB. `OTEL_BSP_*` still set any of them.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { SpanBatch } from "./otlp-protobuf.ts";
import type { SpanRecord } from "./span-record.ts";

/** Where ended spans go. */
export interface SpanProcessor {
  /** A sampled span ended. */
  onEnd(span: SpanRecord): void;
  /** Export everything ended so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Sends one request body; resolves when done (failures are dropped, not thrown). */
export interface BodySender {
  send(body: Buffer): Promise<void>;
  shutdown(): Promise<void>;
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

/**
 * Spans are encoded into a batch as they end (`SpanBatch`); a batch of `maxExportBatchSize` spans is
 * sent at once, a smaller one after `scheduledDelayMillis`. While one body is being sent the next batch
 * keeps filling, up to `maxQueueSize` spans; past that, spans are dropped (counted in `dropped`).
 */
export class EncodingQueue implements SpanProcessor {
  private filling: SpanBatch;
  private spare: SpanBatch;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** Spans dropped because the queue was full. */
  dropped = 0;

  constructor(
    makeBatch: () => SpanBatch,
    private readonly sender: BodySender,
    private readonly settings: BatchSettings,
  ) {
    this.filling = makeBatch();
    this.spare = makeBatch();
  }

  readonly onEnd = (span: SpanRecord): void => {
    if (this.stopped) return;
    if (this.filling.count >= this.settings.maxQueueSize) {
      this.dropped++;
      return;
    }
    this.filling.add(span);
    if (this.filling.count >= this.settings.maxExportBatchSize) {
      if (this.inFlight === undefined) this.sendNow();
    } else if (this.timer === undefined) this.schedule();
  };

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight === undefined) this.sendNow();
    }, this.settings.scheduledDelayMillis);
    this.timer.unref();
  }

  private sendNow(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.filling.count === 0) return;
    const sending = this.filling;
    this.filling = this.spare;
    this.spare = sending;
    this.inFlight = this.sender.send(sending.body()).finally(() => {
      sending.reset();
      this.inFlight = undefined;
      if (this.filling.count >= this.settings.maxExportBatchSize) this.sendNow();
      else if (this.filling.count > 0 && this.timer === undefined && !this.stopped) this.schedule();
    });
  }

  async flush(): Promise<void> {
    for (;;) {
      if (this.inFlight !== undefined) await this.inFlight;
      else if (this.filling.count > 0) this.sendNow();
      else return;
    }
  }

  async shutdown(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.sender.shutdown();
  }
}

/** POST each body to an OTLP/HTTP traces URL. Non-2xx answers and network errors drop the batch. */
export function otlpHttpSender(options: { url: string; headers: Readonly<Record<string, string>>; contentType: string; timeoutMillis: number }): BodySender {
  const url = new URL(options.url);
  const https = url.protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 2 }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  const send = https ? httpsRequest : httpRequest;
  const headers = { ...options.headers, "content-type": options.contentType };
  return {
    send(body) {
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
