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
import { setTimeout as sleep } from "node:timers/promises";
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

/** Sends one request body; resolves when done (a body that cannot be delivered is dropped, never thrown). */
export interface BodySender {
  send(body: Buffer): Promise<void>;
  /**
   * The process is stopping: no more waiting between attempts. A body waiting for a retry gets its last
   * attempt now; later bodies get one attempt each.
   */
  stopRetrying(): void;
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
    this.sender.stopRetrying();
    await this.flush();
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.sender.shutdown();
  }
}

/** What became of one POST: `retry` when the collector may take the same body later (OTLP/HTTP's retryable answers). */
interface Attempt {
  ok: boolean;
  retry: boolean;
  /** Seconds the collector asked to wait (`Retry-After`), if it did. */
  retryAfterS: number | undefined;
  /** "HTTP 400", "timeout after 30000 ms", "connect ECONNREFUSED …". */
  problem: string;
}

/** OTLP/HTTP: 429, 502, 503 and 504 may be retried; other non-2xx answers may not. */
const RETRYABLE = new Set([429, 502, 503, 504]);
/** Attempts per body, and the longest wait between two (also the cap on a `Retry-After`). */
const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 30_000;

export interface OtlpHttpSenderOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  contentType: string;
  /** Per POST. */
  timeoutMillis: number;
  /** A body given up on: the collector refused it, or retries ran out. Called once per dropped body. */
  onDropped(problem: string): void;
  /** The wait before retry `n` (1-based) when the collector named none; exponential with jitter by default. */
  backoffMs?: (n: number) => number;
}

function defaultBackoffMs(n: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (n - 1));
  return base / 2 + Math.random() * (base / 2);
}

/**
 * POSTs each body to an OTLP/HTTP traces URL over a keep-alive agent. A retryable answer (429, 502, 503,
 * 504), a timeout or a network error is retried up to 5 attempts in all, after the collector's
 * `Retry-After` or an exponential backoff (1 s, 2 s, 4 s, … with jitter, at most 30 s); meanwhile the queue
 * keeps filling up to its limit, as the BatchSpanProcessor's contract has it. Any other answer, or the last
 * failed attempt, drops the body and calls `onDropped`.
 */
export function otlpHttpSender(options: OtlpHttpSenderOptions): BodySender {
  const url = new URL(options.url);
  const https = url.protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 2 }) : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  const post = https ? httpsRequest : httpRequest;
  const headers = { ...options.headers, "content-type": options.contentType };
  const backoffMs = options.backoffMs ?? defaultBackoffMs;
  /** Aborted by `stopRetrying`: ends every wait between attempts at once. */
  const stop = new AbortController();

  function attempt(body: Buffer): Promise<Attempt> {
    return new Promise((resolve) => {
      const req = post(
        url,
        { method: "POST", agent, headers: { ...headers, "content-length": String(body.length) }, timeout: options.timeoutMillis },
        (res) => {
          const status = res.statusCode ?? 0;
          const after = Number(res.headers["retry-after"]);
          res.resume();
          const done = (): void =>
            resolve({
              ok: status >= 200 && status < 300,
              retry: RETRYABLE.has(status),
              retryAfterS: Number.isFinite(after) && after >= 0 ? after : undefined,
              problem: `HTTP ${status}`,
            });
          res.once("end", done);
          res.once("error", done);
        },
      );
      req.once("timeout", () => req.destroy(new Error(`timeout after ${options.timeoutMillis} ms`)));
      req.once("error", (err) => resolve({ ok: false, retry: true, retryAfterS: undefined, problem: err.message }));
      req.end(body);
    });
  }

  function stopRetrying(): void {
    stop.abort();
  }

  return {
    async send(body) {
      for (let n = 1; ; n++) {
        const a = await attempt(body);
        if (a.ok) return;
        if (!a.retry || n >= MAX_ATTEMPTS || stop.signal.aborted) {
          options.onDropped(a.retry ? `${a.problem} (${n} attempts)` : a.problem);
          return;
        }
        const waitMs = a.retryAfterS !== undefined ? Math.min(MAX_BACKOFF_MS, a.retryAfterS * 1000) : backoffMs(n);
        // Rejects (AbortError) when stopRetrying cuts the wait short: then the next attempt is the last.
        await sleep(waitMs, undefined, { signal: stop.signal, ref: false }).catch(() => {});
      }
    },
    stopRetrying,
    async shutdown() {
      stopRetrying();
      agent.destroy();
    },
  };
}
