/**
 * The adaptive dispatcher: one per batchable method. Calls (each an array of items) queue in strict FIFO;
 * one batch executes at a time, so while it runs the queue fills (the natural batching of a busy server).
 * When the runner is idle the dispatcher decides whether to dispatch now or hold the batch open, from a
 * learned execution-time model t(n) = a + b·n and the arrival rate: it waits only while the expected saving
 * in total latency is positive, never past `maxLatencyMs` after the oldest queued item arrived and never
 * so long that a queued call would miss its deadline. See docs/batching.md for the derivation.
 */
import { noopTelemetry, type SpanHandle, type Telemetry } from "../observability/telemetry.ts";
import { ArrivalRate } from "./arrival-rate.ts";
import { type BatchFunction, type BatchOutcome, executeBatch } from "./batch-function.ts";
import { type RejectionCode, ServiceUnavailableError } from "./errors.ts";
import { holdTime } from "./hold-policy.ts";
import { LatencyModel, type LatencyModelOptions, type LatencyModelSnapshot } from "./latency-model.ts";

export interface Clock {
  /** Milliseconds; epoch-based so deadlines can be given as `Date.now()`-style times. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface DispatcherOptions {
  /** Names for telemetry and messages. */
  runner?: string;
  method?: string;
  /** false: every call runs alone (its items are the batch); queue bound, deadlines and FIFO still apply. */
  enabled?: boolean;
  maxBatchSize?: number;
  /** Longest time the oldest queued item waits for batch-mates while the runner is idle. 0: never wait. */
  maxLatencyMs?: number;
  /** Queued items past which new calls get 503 `overloaded` at once. */
  maxQueueSize?: number;
  /** "adaptive" (default) or "fixed" (wait for a full batch or the end of the window, like a classic batcher). */
  policy?: BatchPolicy;
  /** Batch items of similar `.length` (strings, arrays) together so padding stays small. */
  groupByLength?: boolean;
  /** With groupByLength: longest/shortest length allowed in one batch (default 2). */
  lengthRatio?: number;
  /** When a batch throws and it served several calls, re-run each call alone so only the bad one fails (default true). */
  isolateFailures?: boolean;
  telemetry?: Telemetry;
  clock?: Clock;
  model?: LatencyModelOptions;
}

export type BatchPolicy = "adaptive" | "fixed";

export interface BatchSettings {
  enabled: boolean;
  maxBatchSize: number;
  maxLatencyMs: number;
  policy: BatchPolicy;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Absolute deadline in the clock's milliseconds (epoch ms with the system clock). */
  deadline?: number | undefined;
  traceparent?: string | undefined;
}

export interface DispatcherStats {
  /** Items waiting. */
  queueDepth: number;
  queuedCalls: number;
  /** Items in the batch executing now (0 when idle). */
  inFlight: number;
  batches: number;
  items: number;
  /** Sizes of the most recent batches, oldest first (up to 64). */
  lastBatchSizes: number[];
  model: LatencyModelSnapshot;
  /** EWMA gap between calls, ms (null before two calls). */
  arrivalGapMs: number | null;
  rejected: Record<RejectionCode, number>;
}

interface PendingCall<I, O> {
  readonly items: I[];
  readonly results: O[];
  done: number;
  settled: boolean;
  dispatched: boolean;
  readonly enqueuedAt: number;
  readonly deadline: number | undefined;
  readonly span: SpanHandle;
  readonly resolve: (results: O[]) => void;
  readonly reject: (err: Error) => void;
  cleanup: (() => void) | undefined;
}

/** A contiguous run of one call's items, [start, end). */
interface Segment<I, O> {
  readonly call: PendingCall<I, O>;
  start: number;
  end: number;
}

const TELEMETRY_REASON = { overloaded: "queue_full", deadline: "deadline", aborted: "aborted", not_ready: "not_ready" } as const;

function lengthOf(item: unknown): number | undefined {
  if (typeof item === "string") return item.length;
  if (item !== null && typeof item === "object" && typeof (item as { length?: unknown }).length === "number") {
    return (item as { length: number }).length;
  }
  return undefined;
}

export class AdaptiveDispatcher<I, O> {
  private enabled: boolean;
  private maxBatchSize: number;
  private maxLatencyMs: number;
  /** "adaptive": hold only while the learned cost model says waiting pays; "fixed": always wait out the window. */
  private policy: BatchPolicy;
  private readonly maxQueueSize: number;
  private readonly groupByLength: boolean;
  private readonly lengthRatio: number;
  private readonly isolateFailures: boolean;
  private readonly telemetry: Telemetry;
  private readonly clock: Clock;
  private readonly runnerName: string;
  private readonly methodName: string;
  private model: LatencyModel;
  private readonly modelOptions: LatencyModelOptions | undefined;
  private readonly arrivals = new ArrivalRate();

  private queue: Segment<I, O>[] = [];
  private queuedItems = 0;
  private running = 0;
  private runningSince = 0;
  private timer: unknown;
  private pumpScheduled = false;
  private closing = false;
  private drained: (() => void) | undefined;
  private batches = 0;
  private itemsRun = 0;
  private readonly recentSizes: number[] = [];
  private readonly rejectedCounts: Record<RejectionCode, number> = { overloaded: 0, deadline: 0, aborted: 0, not_ready: 0 };

  constructor(
    private readonly fn: BatchFunction<I, O>,
    options: DispatcherOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 32));
    this.maxLatencyMs = Math.max(0, options.maxLatencyMs ?? 10);
    this.maxQueueSize = Math.max(1, Math.floor(options.maxQueueSize ?? 1000));
    this.groupByLength = options.groupByLength ?? false;
    this.lengthRatio = Math.max(1, options.lengthRatio ?? 2);
    this.isolateFailures = options.isolateFailures ?? true;
    this.telemetry = options.telemetry ?? noopTelemetry;
    this.clock = options.clock ?? systemClock;
    this.runnerName = options.runner ?? "runner";
    this.methodName = options.method ?? "call";
    this.policy = options.policy ?? "adaptive";
    this.modelOptions = options.model;
    this.model = new LatencyModel(options.model);
  }

  /** The batching settings in force. */
  settings(): BatchSettings {
    return { enabled: this.enabled, maxBatchSize: this.maxBatchSize, maxLatencyMs: this.maxLatencyMs, policy: this.policy };
  }

  /**
   * Changes the batching settings for calls dispatched from now on (queued calls stay queued, in order).
   * `resetModel` forgets the learned execution-time model, e.g. between benchmark settings.
   */
  reconfigure(next: Partial<BatchSettings> & { resetModel?: boolean }): BatchSettings {
    if (next.enabled !== undefined) this.enabled = next.enabled;
    if (next.maxBatchSize !== undefined) this.maxBatchSize = Math.max(1, Math.floor(next.maxBatchSize));
    if (next.maxLatencyMs !== undefined) this.maxLatencyMs = Math.max(0, next.maxLatencyMs);
    if (next.policy !== undefined) this.policy = next.policy;
    if (next.resetModel) this.model = new LatencyModel(this.modelOptions);
    this.schedulePump();
    return this.settings();
  }

  /** Queues `items` and resolves to one result per item, in order. Rejects with a 503 error when refused. */
  call(items: I[], options: CallOptions = {}): Promise<O[]> {
    const now = this.clock.now();
    const n = items.length;
    if (this.closing) return this.refuse("not_ready", `runner ${this.label()} is stopping`);
    if (options.signal?.aborted) return this.refuse("aborted", `call to ${this.label()} was aborted before it was queued`);
    if (n === 0) return Promise.resolve([]);
    if (this.queuedItems > 0 && this.queuedItems + n > this.maxQueueSize) {
      return this.refuse(
        "overloaded",
        `runner ${this.label()} is overloaded: ${this.queuedItems} items queued (max_queue_size ${this.maxQueueSize}); retry later`,
      );
    }
    const deadline = options.deadline;
    if (deadline !== undefined) {
      // An idle runner takes the call whatever the model predicts (only a passed deadline refuses it):
      // refusing on a prediction alone when nothing else runs would let one slow outlier (a cold first
      // inference) lock the runner out, since no batch would ever run again to correct the model.
      const idle = this.running === 0 && this.queuedItems === 0;
      const eta = idle ? undefined : this.estimateCompletion(now, n);
      if (deadline <= now || (eta !== undefined && eta > deadline)) {
        const why = eta === undefined ? "it has already passed" : `the queue ahead needs about ${Math.round(eta - now)} ms`;
        return this.refuse("deadline", `call to ${this.label()} cannot finish within its deadline: ${why}`);
      }
    }
    return new Promise<O[]>((resolve, reject) => {
      const call: PendingCall<I, O> = {
        items,
        results: new Array<O>(n),
        done: 0,
        settled: false,
        dispatched: false,
        enqueuedAt: now,
        deadline,
        span: this.telemetry.startRunnerSpan(this.runnerName, this.methodName, options.traceparent),
        resolve,
        reject,
        cleanup: undefined,
      };
      const signal = options.signal;
      if (signal) {
        const onAbort = () => this.fail(call, new ServiceUnavailableError("aborted", `call to ${this.label()} was aborted`), "aborted");
        signal.addEventListener("abort", onAbort, { once: true });
        call.cleanup = () => signal.removeEventListener("abort", onAbort);
      }
      this.queue.push({ call, start: 0, end: n });
      this.queuedItems += n;
      this.arrivals.record(now, n);
      this.telemetry.queueDepth(this.runnerName, this.methodName, this.queuedItems);
      this.schedulePump();
    });
  }

  stats(): DispatcherStats {
    return {
      queueDepth: this.queuedItems,
      queuedCalls: new Set(this.queue.map((s) => s.call)).size,
      inFlight: this.running,
      batches: this.batches,
      items: this.itemsRun,
      lastBatchSizes: [...this.recentSizes],
      model: this.model.snapshot(),
      arrivalGapMs: this.arrivals.gapMs ?? null,
      rejected: { ...this.rejectedCounts },
    };
  }

  /** Predicted execution time of a batch of `size` items, ms (undefined before the first batch). */
  predict(size: number): number | undefined {
    return this.model.predict(size);
  }

  /** Stops taking calls (503 `not_ready`), runs what is queued without waiting, resolves when idle. */
  close(): Promise<void> {
    this.closing = true;
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.drained = resolve;
      this.schedulePump();
    });
  }

  private label(): string {
    return `${this.runnerName}.${this.methodName}`;
  }

  private refuse(code: RejectionCode, message: string): Promise<never> {
    this.rejectedCounts[code]++;
    this.telemetry.rejected(this.runnerName, this.methodName, TELEMETRY_REASON[code]);
    this.telemetry.runnerCall(this.runnerName, this.methodName, "rejected", 0);
    return Promise.reject(new ServiceUnavailableError(code, message));
  }

  /** When a call of `n` items queued now would finish: in-flight remainder + the queue ahead + its own batch. */
  private estimateCompletion(now: number, n: number): number | undefined {
    if (this.model.snapshot().kind === "none") return undefined;
    const t = (k: number) => this.model.predict(k) ?? 0;
    let eta = now;
    if (this.running > 0) eta += Math.max(0, t(this.running) - (now - this.runningSince));
    if (!this.enabled) {
      for (const s of this.queue) eta += t(s.end - s.start);
      return eta + t(n);
    }
    const total = this.queuedItems + n;
    const full = Math.floor(total / this.maxBatchSize);
    const rest = total - full * this.maxBatchSize;
    return eta + full * t(this.maxBatchSize) + (rest > 0 ? t(rest) : 0);
  }

  private schedulePump(): void {
    if (this.running > 0 || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate: calls that arrive in the same turn of the event loop (one socket read) batch together.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.running > 0) return;
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    for (;;) {
      if (this.queue.length === 0) {
        if (this.closing && this.drained) this.drained();
        return;
      }
      const now = this.clock.now();
      const wait = this.closing ? 0 : this.waitMs(now);
      if (wait > 0) {
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const batch = this.take(now);
      if (batch.length > 0) {
        void this.run(batch);
        return;
      }
    }
  }

  /** 0 to dispatch now, else how long to hold the batch open (see hold-policy.ts). */
  private waitMs(now: number): number {
    const head = this.queue[0];
    if (!this.enabled || this.maxLatencyMs <= 0 || !head) return 0;
    let earliest = Infinity;
    for (const s of this.queue) if (s.call.deadline !== undefined && s.call.deadline < earliest) earliest = s.call.deadline;
    if (this.policy === "fixed") {
      if (this.queuedItems >= this.maxBatchSize) return 0;
      return Math.max(0, Math.min(head.call.enqueuedAt + this.maxLatencyMs, earliest) - now);
    }
    return holdTime({
      n: Math.min(this.queuedItems, this.maxBatchSize),
      maxBatchSize: this.maxBatchSize,
      remainingMs: head.call.enqueuedAt + this.maxLatencyMs - now,
      fit: this.model.linear(),
      gapMs: this.arrivals.expectedGap(now),
      itemsPerCall: this.arrivals.itemsPerCall,
      slackMs: earliest - now,
    });
  }

  private lengthRange(seg: Segment<I, O>, count: number): [number, number] | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = seg.start; i < seg.start + count; i++) {
      const len = lengthOf(seg.call.items[i]);
      if (len === undefined) continue;
      if (len < lo) lo = len;
      if (len > hi) hi = len;
    }
    return hi < lo ? undefined : [lo, hi];
  }

  /** Takes the next batch off the queue: always the head first (FIFO), then what fits. */
  private take(now: number): Segment<I, O>[] {
    const batch: Segment<I, O>[] = [];
    if (!this.enabled) {
      const seg = this.queue.shift();
      if (seg) batch.push(seg);
    } else {
      let room = this.maxBatchSize;
      let range: [number, number] | undefined;
      let i = 0;
      while (room > 0 && i < this.queue.length) {
        const seg = this.queue[i] as Segment<I, O>;
        const count = Math.min(room, seg.end - seg.start);
        if (this.groupByLength && batch.length > 0) {
          const r = this.lengthRange(seg, count);
          if (r && range) {
            const lo = Math.min(r[0], range[0]);
            const hi = Math.max(r[1], range[1]);
            if (hi > this.lengthRatio * Math.max(1, lo)) {
              i++;
              continue;
            }
          }
        }
        if (this.groupByLength) {
          const r = this.lengthRange(seg, count);
          if (r) range = range ? [Math.min(r[0], range[0]), Math.max(r[1], range[1])] : r;
        }
        if (count === seg.end - seg.start) {
          this.queue.splice(i, 1);
          batch.push(seg);
        } else {
          batch.push({ call: seg.call, start: seg.start, end: seg.start + count });
          seg.start += count;
          i++;
        }
        room -= count;
      }
    }
    for (const seg of batch) this.queuedItems -= seg.end - seg.start;
    // Reject, before running, the calls this batch cannot finish in time: those past their deadline, and,
    // while other work waits behind this batch, those the model predicts to finish late (with nothing
    // waiting the batch runs, so the model keeps learning; see `call`).
    const size = batch.reduce((s, seg) => s + seg.end - seg.start, 0);
    const predicted = this.queue.length > 0 ? this.model.predict(size) : undefined;
    const kept: Segment<I, O>[] = [];
    for (const seg of batch) {
      const d = seg.call.deadline;
      if (d !== undefined && (now >= d || (predicted !== undefined && now + predicted > d))) {
        this.fail(seg.call, new ServiceUnavailableError("deadline", `call to ${this.label()} would miss its deadline: dropped before running`), "deadline");
      } else if (!seg.call.settled) {
        kept.push(seg);
      }
    }
    this.telemetry.queueDepth(this.runnerName, this.methodName, this.queuedItems);
    return kept;
  }

  private async run(batch: Segment<I, O>[]): Promise<void> {
    const size = batch.reduce((s, seg) => s + seg.end - seg.start, 0);
    const start = this.clock.now();
    this.running = size;
    this.runningSince = start;
    for (const seg of batch) {
      if (!seg.call.dispatched) {
        seg.call.dispatched = true;
        this.telemetry.queueWait(this.runnerName, this.methodName, Math.max(0, start - seg.call.enqueuedAt) / 1000);
      }
    }
    try {
      const items = batch.length === 1 ? sliceOf(batch[0] as Segment<I, O>) : batch.flatMap(sliceOf);
      const outcome = await this.execute(
        items,
        batch.map((s) => s.call.span.traceparent),
      );
      const calls = new Set(batch.map((s) => s.call));
      if (outcome.kind === "failed" && outcome.thrown && this.isolateFailures && calls.size > 1) {
        // Isolate the failure: each call alone, so one bad input never fails its batch-mates.
        for (const seg of batch) {
          if (seg.call.settled) continue;
          this.deliver(seg, await this.execute(sliceOf(seg), [seg.call.span.traceparent]), 0);
        }
      } else {
        let offset = 0;
        for (const seg of batch) {
          this.deliver(seg, outcome, offset);
          offset += seg.end - seg.start;
        }
      }
    } finally {
      this.running = 0;
      this.pump();
    }
  }

  private async execute(items: I[], links: (string | undefined)[]): Promise<BatchOutcome<O>> {
    const span = this.telemetry.startBatchSpan(this.runnerName, this.methodName, links);
    span.setAttribute("batch.size", items.length);
    const t0 = this.clock.now();
    const outcome = await executeBatch(this.fn, items, { traceparent: span.traceparent }, `runner ${this.label()}`);
    const ms = this.clock.now() - t0;
    span.end(outcome.kind === "failed" ? outcome.error : undefined);
    this.model.record(items.length, ms);
    this.batches++;
    this.itemsRun += items.length;
    this.recentSizes.push(items.length);
    if (this.recentSizes.length > 64) this.recentSizes.shift();
    this.telemetry.batchExecuted(this.runnerName, this.methodName, items.length, ms / 1000);
    return outcome;
  }

  private deliver(seg: Segment<I, O>, outcome: BatchOutcome<O>, offset: number): void {
    const call = seg.call;
    if (call.settled) return;
    if (outcome.kind === "failed") {
      this.fail(call, outcome.error, undefined);
      return;
    }
    for (let j = seg.start; j < seg.end; j++) {
      const r = outcome.results[offset + j - seg.start];
      if (r instanceof Error) {
        this.fail(call, r, undefined);
        return;
      }
      call.results[j] = r as O;
    }
    call.done += seg.end - seg.start;
    if (call.done === call.items.length) {
      call.settled = true;
      call.cleanup?.();
      call.span.end();
      this.telemetry.runnerCall(this.runnerName, this.methodName, "ok", (this.clock.now() - call.enqueuedAt) / 1000);
      call.resolve(call.results);
    }
  }

  /** Settles `call` with `err` and drops whatever of it is still queued. */
  private fail(call: PendingCall<I, O>, err: Error, rejection: RejectionCode | undefined): void {
    if (call.settled) return;
    call.settled = true;
    call.cleanup?.();
    const before = this.queue.length;
    if (before > 0) {
      this.queue = this.queue.filter((s) => {
        if (s.call !== call) return true;
        this.queuedItems -= s.end - s.start;
        return false;
      });
      if (this.queue.length !== before) this.telemetry.queueDepth(this.runnerName, this.methodName, this.queuedItems);
    }
    call.span.end(err);
    if (rejection) {
      this.rejectedCounts[rejection]++;
      this.telemetry.rejected(this.runnerName, this.methodName, TELEMETRY_REASON[rejection]);
    }
    this.telemetry.runnerCall(this.runnerName, this.methodName, rejection ? "rejected" : "error", (this.clock.now() - call.enqueuedAt) / 1000);
    call.reject(err);
  }
}

function sliceOf<I, O>(seg: Segment<I, O>): I[] {
  return seg.start === 0 && seg.end === seg.call.items.length ? seg.call.items : seg.call.items.slice(seg.start, seg.end);
}
