/**
 * The request a runner call belongs to. Service code calls `this.classifier.classify(texts)` without
 * passing anything about the HTTP request; the server runs each handler inside `callScope.run(...)`, so
 * the runner host can still give the call the request's deadline, its abort signal (client gone, timeout)
 * and the handler span's `traceparent`. Options passed explicitly to a call win over the scope.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RunnerCallOptions } from "./runner-host.ts";

export const callScope = new AsyncLocalStorage<RunnerCallOptions>();

/** `opts` completed from the current request scope. */
export function scopedCallOptions(opts: RunnerCallOptions | undefined): RunnerCallOptions {
  const scope = callScope.getStore();
  if (!scope) return opts ?? {};
  if (!opts) return scope;
  return {
    signal: opts.signal ?? scope.signal,
    traceparent: opts.traceparent ?? scope.traceparent,
    deadline: opts.deadline ?? scope.deadline,
  };
}
