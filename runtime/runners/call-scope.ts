/**
 * The request a runner call belongs to. Service code calls `this.classifier.classify(texts)` without
 * passing anything about the HTTP request; the API server runs each handler inside `runInCallScope(...)`,
 * so the runner host can still give the call the request's deadline, its abort signal (client gone,
 * timeout) and the handler span's `traceparent` — after any number of awaits, tracing on or off. Options
 * passed explicitly to a call win over the scope.
 *
 * The scope travels in an AsyncLocalStorage. Its cost depends on the Node version: from Node 24 it rides
 * on AsyncContextFrame and is cheap; on Node 20 and 22 entering one turns on promise hooks for the
 * process. The server only enters a scope for services that have runners, where every request does model
 * work worth milliseconds; bench/results (server-overhead, batching) record what it costs.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RunnerCallOptions } from "./runner-host.ts";

const scope = new AsyncLocalStorage<RunnerCallOptions>();

/** Runs `fn(a, b)` with `options` as the current call scope, across every await inside it. */
export function runInCallScope<A, B, R>(options: RunnerCallOptions, fn: (a: A, b: B) => R, a: A, b: B): R {
  return scope.run(options, fn, a, b);
}

/** The scope of the handler running now, if any. */
export function currentCallScope(): RunnerCallOptions | undefined {
  return scope.getStore();
}

/** `opts` completed from the current request scope. */
export function scopedCallOptions(opts: RunnerCallOptions | undefined): RunnerCallOptions {
  const current = scope.getStore();
  if (!current) return opts ?? {};
  if (!opts) return current;
  return {
    signal: opts.signal ?? current.signal,
    traceparent: opts.traceparent ?? current.traceparent,
    deadline: opts.deadline ?? current.deadline,
  };
}
