/**
 * The response of a streaming API: the handler returned an `AsyncIterable` (an `async *` method), and
 * each item is written as it is produced, framed as Server-Sent Events or NDJSON (chosen by `Accept`).
 *
 * - The head goes out with the first item, so a failure before it is an ordinary error response (status,
 *   error body); after it, a failure ends the stream with an error event in the catalogue's shape.
 * - Backpressure: when the backend says its buffer is full, the next item is not asked for until the
 *   socket drains; a slow reader pauses the generator, nothing is buffered beyond one item.
 * - The client leaving, a stream limit or shutdown aborts the request's signal (runner calls still queued
 *   for it leave their queue), ends the response at once and calls the iterator's `return()`, so the
 *   generator's `finally` blocks run.
 * - Limits: the request timeout until the first item; then `streamIdleMs` per item (not counting time a
 *   slow reader holds the stream) and `streamMaxMs` for the whole stream (0: none).
 * - SSE heartbeats: a comment line after `streamHeartbeatMs` without output.
 */

import { StreamTimeout } from "../errors/http-errors.ts";
import { errorAnswer } from "../http/error-responder.ts";
import type { Exchange } from "../http/exchange.ts";
import type { Logger } from "../logging/logger.ts";
import type { RequestMetrics, SpanHandle, StreamOutcome } from "../observability/telemetry.ts";

export type StreamFraming = "sse" | "ndjson";

export const SSE_TYPE = "text/event-stream";
export const NDJSON_TYPE = "application/x-ndjson";

export interface StreamSettings {
  /** Longest a stream may run from the request's arrival; 0: no limit. */
  maxMs: number;
  /** Longest the handler may take per item once the stream started. */
  idleMs: number;
  /** SSE comment line after this long without output; 0: none. */
  heartbeatMs: number;
}

/** NDJSON when `Accept` names `application/x-ndjson` before (or without) `text/event-stream`; SSE otherwise. */
export function chooseFraming(accept: string | undefined): StreamFraming {
  if (!accept) return "sse";
  const a = accept.toLowerCase();
  const nd = a.indexOf(NDJSON_TYPE);
  const sse = a.indexOf(SSE_TYPE);
  return nd >= 0 && (sse < 0 || nd < sse) ? "ndjson" : "sse";
}

export function frameItem(framing: StreamFraming, value: unknown): string {
  const json = JSON.stringify(value === undefined ? null : value);
  return framing === "sse" ? `data: ${json}\n\n` : `${json}\n`;
}

export function frameError(framing: StreamFraming, body: unknown): string {
  const json = JSON.stringify(body);
  return framing === "sse" ? `event: error\ndata: ${json}\n\n` : `{"$error":${json}}\n`;
}

const HEARTBEAT = ": heartbeat\n\n";

export interface StreamRun {
  ex: Exchange;
  endpoint: string;
  iterable: unknown;
  framing: StreamFraming;
  settings: StreamSettings;
  metrics: RequestMetrics;
  logger: Logger;
  /** The handler's span, ended with the stream. */
  handlerSpan: SpanHandle | undefined;
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/** Streams `run.iterable` to `run.ex`; resolves when the response is over (the generator may still be cleaning up). */
export async function pumpStream(run: StreamRun): Promise<void> {
  const { ex, framing, settings } = run;
  if (!isAsyncIterable(run.iterable)) {
    const err = new TypeError("a streaming API's handler must return an AsyncIterable (an async generator)");
    run.handlerSpan?.end(err);
    return ex.fail(err);
  }
  let it: AsyncIterator<unknown>;
  try {
    it = run.iterable[Symbol.asyncIterator]();
  } catch (err) {
    run.handlerSpan?.end(err);
    return ex.fail(err);
  }

  const signal = ex.signal();
  let ended = false;
  let closed = false;
  let items = 0;
  let lastWrite = performance.now();
  let waitingWritable = false;
  let wake: (() => void) | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const maxAt = settings.maxMs > 0 ? ex.start + settings.maxMs : 0;

  /** Calls the iterator's return() once (its finally blocks run); errors from it are logged. */
  const closeIterator = (): void => {
    if (closed) return;
    closed = true;
    if (typeof it.return !== "function") return;
    try {
      Promise.resolve(it.return(undefined)).catch((err: unknown) => run.logger.warn("stream generator failed while closing", { requestId: ex.requestId, err }));
    } catch (err) {
      run.logger.warn("stream generator failed while closing", { requestId: ex.requestId, err });
    }
  };

  /** Ends a started stream, with an error event first when `err` is given. */
  const end = (outcome: StreamOutcome, err?: unknown): void => {
    if (ended) return;
    ended = true;
    if (heartbeat) clearInterval(heartbeat);
    signal.removeEventListener("abort", onAbort);
    if (!ex.streaming) return;
    if (err !== undefined && !ex.aborted) {
      const answer = errorAnswer(err, ex.requestId);
      if (answer.internal) run.logger.error("stream failed", { requestId: ex.requestId, path: ex.path, items, err, traceparent: ex.span?.traceparent });
      ex.span?.setAttribute("error.code", answer.body.code);
      ex.write(frameError(framing, answer.body));
    }
    ex.span?.setAttribute("bentoc.stream.items", items);
    ex.span?.setAttribute("bentoc.stream.outcome", outcome);
    ex.span?.setAttribute("bentoc.stream.framing", framing);
    if (outcome === "error") ex.error = err;
    run.handlerSpan?.end(outcome === "error" ? err : undefined);
    try {
      run.metrics.streamFinished(run.endpoint, outcome, (performance.now() - ex.start) / 1000);
    } catch (e) {
      run.logger.warn("telemetry failed", { err: e });
    }
    ex.endStream();
  };

  function onAbort(): void {
    if (ended) return;
    if (!ex.streaming) {
      // Before the first item: the server answers (504, 503) or the client is gone; only clean up.
      ended = true;
      run.handlerSpan?.end(signal.reason);
    } else if (ex.aborted) end("disconnect");
    else end(signal.reason instanceof StreamTimeout ? "timeout" : "error", signal.reason);
    if (heartbeat) clearInterval(heartbeat);
    closeIterator();
    wake?.();
  }
  signal.addEventListener("abort", onAbort);
  if (signal.aborted) onAbort();

  /** The deadline for the next item: idle limit from now, never past the stream's maximum. */
  const armIdle = (): void => {
    const idleAt = performance.now() + settings.idleMs;
    const useMax = maxAt !== 0 && maxAt <= idleAt;
    ex.deadlineAt = useMax ? maxAt : idleAt;
    ex.streamTimeout = useMax
      ? new StreamTimeout(`the stream ran longer than ${settings.maxMs} ms`, { limit: "streamMaxMs", ms: settings.maxMs })
      : new StreamTimeout(`no item within ${settings.idleMs} ms`, { limit: "streamIdleMs", ms: settings.idleMs });
  };

  const start = (): void => {
    ex.startStream(200, framing === "sse" ? `${SSE_TYPE}; charset=utf-8` : NDJSON_TYPE, ["x-accel-buffering", "no"]);
    if (framing === "sse" && settings.heartbeatMs > 0) {
      heartbeat = setInterval(() => {
        if (ended || waitingWritable || performance.now() - lastWrite < settings.heartbeatMs) return;
        lastWrite = performance.now();
        ex.write(HEARTBEAT);
      }, settings.heartbeatMs);
      heartbeat.unref();
    }
  };

  // An error before the first item is an ordinary error response; after it, the stream's error event.
  const failed = (err: unknown): void => {
    if (ex.streaming) return end("error", err);
    ended = true;
    signal.removeEventListener("abort", onAbort);
    run.handlerSpan?.end(err);
    ex.fail(err);
  };

  while (!ended) {
    let r: IteratorResult<unknown>;
    try {
      r = await it.next();
    } catch (err) {
      closed = true; // a generator that threw is finished
      if (ended) return;
      return failed(err);
    }
    if (ended) {
      if (!r.done) closeIterator();
      return;
    }
    if (r.done) {
      closed = true;
      if (!ex.streaming) start();
      return end("complete");
    }
    let chunk: string;
    try {
      chunk = frameItem(framing, r.value);
    } catch (err) {
      // Not JSON-serialisable (a BigInt, a cycle): the service's bug.
      closeIterator();
      return failed(err);
    }
    if (!ex.streaming) start();
    items++;
    lastWrite = performance.now();
    const ok = ex.write(chunk);
    try {
      run.metrics.streamItem(run.endpoint);
    } catch (err) {
      run.logger.warn("telemetry failed", { err });
    }
    if (!ok && !ended) {
      // A slow reader: wait for the socket to drain before asking for the next item. Only the stream's
      // maximum applies meanwhile (the handler is not idle, the client is).
      ex.deadlineAt = maxAt;
      if (maxAt !== 0) ex.streamTimeout = new StreamTimeout(`the stream ran longer than ${settings.maxMs} ms`, { limit: "streamMaxMs", ms: settings.maxMs });
      waitingWritable = true;
      await new Promise<void>((resolve) => {
        wake = resolve;
        ex.onWritable(resolve);
      });
      wake = undefined;
      waitingWritable = false;
      lastWrite = performance.now();
    }
    if (!ended) armIdle();
  }
  if (!closed) closeIterator();
}
