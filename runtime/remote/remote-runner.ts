/**
 * The API side of runner-split: a runner configured with `runners.<name>.url` is called over the Open
 * Inference Protocol V2 instead of in-process. One call = one V2 infer request (binary tensor data both
 * ways) over keep-alive connections; the runner server micro-batches the calls of every API replica.
 *
 * - Timeout: `server.timeoutMs` (or less when the call has a deadline); the time left is sent as the
 *   `bentoc-timeout-ms` header so the runner drops work nobody waits for. Connect timeout: 2 s.
 * - Retries, at most 2 with a short backoff, only where safe: the connection was refused, never made, or
 *   reset before any answer, or the runner answered 503 not_ready / shutting_down / overloaded (another
 *   replica behind the Service may take it). Never after a timeout or another error answer.
 * - Failures: unreachable → 503 `runner_unavailable`, naming runner and URL; timeout → 504
 *   `runner_timeout`; an error answer keeps the runner's status and code (see remote-errors.ts).
 * - Readiness: `/v2/health/ready` is probed at start and then polled; a call that finds the runner
 *   unreachable marks it not ready at once, a successful one ready again.
 * - `traceparent` goes on as a header (a child span of the caller when tracing is on).
 */
import http from "node:http";
import https from "node:https";
import { V2_ROUTES } from "../../contract/server-routes.ts";
import type { JsonSchema, RunnerManifest } from "../../sdk/manifest.ts";
import { ServiceUnavailableError } from "../batching/errors.ts";
import { noopTelemetry, type Telemetry } from "../observability/telemetry.ts";
import type { RunnerCallOptions, RunnerHandle } from "../runners/runner-host.ts";
import { exchange, type HttpAnswer, TransportError } from "./http-exchange.ts";
import { itemsToTensor, tensorToItems } from "./item-tensors.ts";
import { RunnerFailed, RunnerTimeout, RunnerUnavailable } from "./remote-errors.ts";
import { INPUT_TENSOR, OUTPUT_TENSOR, type RunnerModel, runnerModels } from "./runner-models.ts";
import { decodeInferResponse, encodeInferRequest } from "./v2-codec.ts";
import { TIMEOUT_HEADER } from "./v2-types.ts";

export interface RemoteRunnerOptions {
  runner: RunnerManifest;
  /** `$defs` of the manifest (item schemas refer to them). */
  defs: Record<string, JsonSchema>;
  /** Base URL of the runner's V2 server, e.g. http://svc-runner-x:3001. */
  url: string;
  /** Longest a call may take. */
  timeoutMs: number;
  connectTimeoutMs?: number;
  /** Retries of a safe-to-repeat failure (default 2). */
  retries?: number;
  /** Readiness poll period while the runner is ready / not ready (default 2000 / 500 ms). */
  pollMs?: { ready: number; notReady: number };
  telemetry?: Telemetry;
  /** Largest answer accepted (default 256 MiB). */
  maxResponseBytes?: number;
}

export interface RemoteRunner extends RunnerHandle {
  readonly url: string;
  /** Whether the last probe or call reached a ready runner. */
  readonly ready: boolean;
  /** Why it is not ready (for /readyz). */
  readonly detail: string | undefined;
  /** Probes once (never throws: a runner that is not up yet is just not ready) and starts polling. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const RETRY_503 = new Set(["not_ready", "shutting_down", "overloaded"]);
const BACKOFF_MS = [25, 100];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorBody(a: HttpAnswer): { message: string; code: string | undefined } {
  try {
    const j = JSON.parse(a.body.toString("utf8")) as { error?: unknown; code?: unknown };
    return { message: typeof j.error === "string" ? j.error : a.body.toString("utf8").slice(0, 200), code: typeof j.code === "string" ? j.code : undefined };
  } catch {
    return { message: a.body.toString("utf8").slice(0, 200) || `status ${a.status}`, code: undefined };
  }
}

export function createRemoteRunner(options: RemoteRunnerOptions): RemoteRunner {
  const { runner } = options;
  const name = runner.name;
  const base = options.url.replace(/\/+$/, "");
  let parsedBase: URL;
  try {
    parsedBase = new URL(base);
  } catch {
    throw new Error(`runner ${name}: url ${JSON.stringify(options.url)} is not a valid URL`);
  }
  if (parsedBase.protocol !== "http:" && parsedBase.protocol !== "https:") throw new Error(`runner ${name}: url ${options.url} must be http:// or https://`);
  const telemetry = options.telemetry ?? noopTelemetry;
  const connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 2000, options.timeoutMs);
  const retries = options.retries ?? 2;
  const poll = options.pollMs ?? { ready: 2000, notReady: 500 };
  const maxBytes = options.maxResponseBytes ?? 256 * 1024 * 1024;
  const agent = parsedBase.protocol === "https:" ? new https.Agent({ keepAlive: true, maxSockets: 256 }) : new http.Agent({ keepAlive: true, maxSockets: 256 });
  const models = runnerModels(runner, options.defs);
  const byMethod = new Map<string, RunnerModel>([...models.values()].map((m) => [m.method.name, m]));
  const readyUrl = new URL(`${base}${V2_ROUTES.ready}`);

  let ready = false;
  // Shown in /readyz and 503 answers: names the runner, never its address.
  let detail: string | undefined = `waiting for runner ${name}`;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const markDown = (why: string) => {
    ready = false;
    detail = `runner ${name} is unavailable: ${why}`;
  };

  async function probe(): Promise<void> {
    try {
      const a = await exchange({ method: "GET", url: readyUrl, agent, connectTimeoutMs, timeoutMs: Math.min(3000, options.timeoutMs), maxBytes: 64 * 1024 });
      if (a.status === 200) {
        ready = true;
        detail = undefined;
      } else {
        const b = errorBody(a);
        ready = false;
        detail = `runner ${name} is not ready (${a.status}): ${b.message}`;
      }
    } catch (err) {
      markDown(err instanceof TransportError ? err.summary : "the readiness probe failed");
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void probe().finally(schedule), ready ? poll.ready : poll.notReady);
    timer.unref();
  };

  async function send(
    model: RunnerModel,
    body: Buffer,
    headers: Record<string, string>,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<HttpAnswer> {
    const url = new URL(`${base}/v2/models/${encodeURIComponent(model.name)}/infer`);
    for (let attempt = 0; ; attempt++) {
      const left = Math.max(1, Math.floor(deadline - Date.now()));
      let answer: HttpAnswer;
      try {
        answer = await exchange({
          method: "POST",
          url,
          body,
          headers: { ...headers, [TIMEOUT_HEADER]: String(left) },
          agent,
          connectTimeoutMs: Math.min(connectTimeoutMs, left),
          timeoutMs: left,
          signal,
          maxBytes,
        });
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (err.kind === "aborted") throw new ServiceUnavailableError("aborted", `call to ${name}.${model.method.name} was aborted`);
        if (err.kind === "timeout") throw new RunnerTimeout(name, base, options.timeoutMs);
        if (err.retryable && attempt < retries && Date.now() + (BACKOFF_MS[attempt] ?? 100) < deadline) {
          await sleep(BACKOFF_MS[attempt] ?? 100);
          continue;
        }
        const failure = new RunnerUnavailable(name, base, err.summary, err.message);
        markDown(err.summary);
        throw failure;
      }
      if (answer.status === 503 && attempt < retries) {
        const { code } = errorBody(answer);
        if (code && RETRY_503.has(code) && Date.now() + (BACKOFF_MS[attempt] ?? 100) < deadline) {
          await sleep(BACKOFF_MS[attempt] ?? 100);
          continue;
        }
      }
      return answer;
    }
  }

  async function call(method: string, items: unknown[], opts: RunnerCallOptions = {}): Promise<unknown[]> {
    const model = byMethod.get(method);
    if (!model) throw new Error(`runner ${name} has no batchable method ${method}`);
    if (items.length === 0) return [];
    if (stopped) throw new ServiceUnavailableError("not_ready", `runner ${name} is stopped`);
    const started = performance.now();
    const span = telemetry.startRunnerSpan(name, method, opts.traceparent);
    const deadline = Math.min(Date.now() + options.timeoutMs, opts.deadline ?? Infinity);
    try {
      const enc = encodeInferRequest(
        { inputs: [itemsToTensor(INPUT_TENSOR, items, model.inputKind)], outputs: [{ name: OUTPUT_TENSOR, parameters: { binary_data: true } }] },
        true,
      );
      const headers: Record<string, string> = { ...enc.headers };
      const tp = span.traceparent ?? opts.traceparent;
      if (tp) headers["traceparent"] = tp;
      const answer = await send(model, enc.body, headers, deadline, opts.signal);
      if (answer.status !== 200) {
        const b = errorBody(answer);
        throw new RunnerFailed(name, base, answer.status, b.code, b.message);
      }
      let results: unknown[];
      try {
        const res = decodeInferResponse(answer.body, answer.headers["inference-header-content-length"] as string | undefined);
        const out = res.outputs.find((t) => t.name === OUTPUT_TENSOR) ?? res.outputs[0];
        if (!out) throw new Error("the answer has no output tensor");
        results = tensorToItems(out, model.outputKind);
      } catch (err) {
        throw new RunnerFailed(name, base, 502, "runner_bad_response", `malformed V2 answer: ${(err as Error).message}`);
      }
      if (results.length !== items.length)
        throw new RunnerFailed(name, base, 502, "runner_bad_response", `${results.length} results for ${items.length} items`);
      if (!ready) {
        ready = true;
        detail = undefined;
      }
      telemetry.runnerCall(name, method, "ok", (performance.now() - started) / 1000);
      span.end();
      return results;
    } catch (err) {
      telemetry.runnerCall(name, method, "error", (performance.now() - started) / 1000);
      span.end(err);
      throw err;
    }
  }

  return {
    name,
    url: base,
    get ready() {
      return ready;
    },
    get detail() {
      return detail;
    },
    call,
    async start() {
      stopped = false;
      await probe();
      if (!timer) schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      agent.destroy();
    },
  };
}
