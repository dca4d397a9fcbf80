/**
 * The request a runner call belongs to. Service code calls `this.classifier.classify(texts)` without
 * passing anything about the HTTP request; the server runs each handler inside `runInCallScope(...)`, so
 * the runner host can still give the call the request's deadline, its abort signal (client gone, timeout)
 * and the handler span's `traceparent`. Options passed explicitly to a call win over the scope.
 *
 * Two carriers, by cost:
 * - always, a synchronous scope: set while the handler runs up to its first `await`. It costs nothing and
 *   covers the common shape (`return this.runner.method([x])`, or a first call before any await).
 * - with tracing on, also AsyncLocalStorage, which follows the handler across awaits (a call after an
 *   await keeps its parent span). On Node 20 entering an AsyncLocalStorage turns on promise hooks for the
 *   whole process (measured: −30% req/s on a trivial API), so it is not used when tracing is off.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RunnerCallOptions } from "./runner-host.ts";

const asyncScope = new AsyncLocalStorage<RunnerCallOptions>();
let asyncScopeUsed = false;
let syncScope: RunnerCallOptions | undefined;

/** Runs `fn(a, b)` with `scope` as the current call scope; `acrossAwaits` also carries it past awaits. */
export function runInCallScope<A, B, R>(scope: RunnerCallOptions, acrossAwaits: boolean, fn: (a: A, b: B) => R, a: A, b: B): R {
  const previous = syncScope;
  syncScope = scope;
  try {
    if (!acrossAwaits) return fn(a, b);
    asyncScopeUsed = true;
    return asyncScope.run(scope, fn, a, b);
  } finally {
    syncScope = previous;
  }
}

/** The scope of the handler running now, if any. */
export function currentCallScope(): RunnerCallOptions | undefined {
  return syncScope ?? (asyncScopeUsed ? asyncScope.getStore() : undefined);
}

/** `opts` completed from the current request scope. */
export function scopedCallOptions(opts: RunnerCallOptions | undefined): RunnerCallOptions {
  const scope = currentCallScope();
  if (!scope) return opts ?? {};
  if (!opts) return scope;
  return {
    signal: opts.signal ?? scope.signal,
    traceparent: opts.traceparent ?? scope.traceparent,
    deadline: opts.deadline ?? scope.deadline,
  };
}
