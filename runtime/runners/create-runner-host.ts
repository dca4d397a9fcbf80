/**
 * The runner host: brings up every runner of the manifest (inline or in a worker thread), loads its model,
 * runs setup and warm-up, and puts one adaptive dispatcher in front of each batchable method. Readiness and
 * failure reasons per runner feed /readyz and the CLI.
 */
import type { Manifest, RunnerManifest } from "../../sdk/manifest.ts";
import type { BatchSettings } from "../batching/adaptive-dispatcher.ts";
import { AdaptiveDispatcher, type DispatcherStats } from "../batching/adaptive-dispatcher.ts";
import { ServiceUnavailableError } from "../batching/errors.ts";
import type { BentocConfig } from "../config/config-types.ts";
import { loadConfig, methodBatching } from "../config/load-config.ts";
import { noopTelemetry, type Telemetry } from "../observability/telemetry.ts";
import type { RemoteRunner } from "../remote/remote-runner.ts";
import { scopedCallOptions } from "./call-scope.ts";
import type { BatchingChange, BatchingState, RunnerCallOptions, RunnerHandle, RunnerHost } from "./runner-host.ts";
import { createRunnerInstance, type RunnerInstance } from "./runner-instance.ts";
import { startWorkerRunner } from "./worker-placement.ts";

export interface RunnerHostOptions {
  /** Absolute path of the service bundle; required for the worker placement (the worker imports it). */
  bundlePath?: string;
  telemetry?: Telemetry;
}

export interface RunnerHostWithStats extends RunnerHost {
  /** Dispatcher statistics of one batchable method (queue depth, batch sizes, fitted model). */
  stats(runnerName: string, method: string): DispatcherStats | undefined;
}

interface RunnerState {
  readonly manifest: RunnerManifest;
  status: "idle" | "starting" | "ready" | "failed" | "stopped";
  detail?: string;
  instance?: RunnerInstance;
  dispatchers: Map<string, AdaptiveDispatcher<unknown, unknown>>;
  /** Set when the runner is remote (`runners.<name>.url`): calls go to its V2 server. */
  remote?: RemoteRunner;
}

/** Started, and (for a remote runner) reachable and ready right now. */
const isReady = (s: RunnerState): boolean => s.status === "ready" && (!s.remote || s.remote.ready);

export function createRunnerHost(
  manifest: Manifest,
  module: Record<string, unknown>,
  config?: BentocConfig,
  options: RunnerHostOptions = {},
): RunnerHostWithStats {
  const effective = config ?? loadConfig({ manifest, file: null, env: {} });
  const telemetry = options.telemetry ?? noopTelemetry;
  const states = new Map<string, RunnerState>(manifest.runners.map((r) => [r.name, { manifest: r, status: "idle", dispatchers: new Map() }]));

  const stateOf = (name: string): RunnerState => {
    const s = states.get(name);
    if (!s) throw new Error(`no runner named ${name} (runners: ${[...states.keys()].join(", ") || "none"})`);
    return s;
  };

  async function startOne(state: RunnerState): Promise<void> {
    const r = state.manifest;
    const rc = effective.runners[r.name];
    const placement = rc?.placement ?? r.placement;
    const threads = rc?.threads !== undefined ? rc.threads : r.threads;
    state.status = "starting";
    try {
      if (rc?.url) {
        // The V2 client loads only for a runner that is split out.
        const { createRemoteRunner } = await import("../remote/remote-runner.ts");
        state.remote = createRemoteRunner({ runner: r, defs: manifest.$defs, url: rc.url, timeoutMs: effective.server.timeoutMs, telemetry });
        await state.remote.start();
        state.status = "ready";
        delete state.detail;
        return;
      }
      let instance: RunnerInstance;
      if (placement === "worker") {
        if (!options.bundlePath) throw new Error(`runner ${r.name} has placement "worker" but the host was given no bundlePath`);
        instance = await startWorkerRunner(options.bundlePath, r, { home: effective.home, threads });
      } else {
        instance = await createRunnerInstance(r, module, { home: effective.home, threads });
      }
      if (r.model) telemetry.modelLoaded(r.name, instance.modelLoadMs / 1000);
      state.instance = instance;
      for (const m of r.methods) {
        const b = methodBatching(effective, r, m.name);
        state.dispatchers.set(
          m.name,
          new AdaptiveDispatcher<unknown, unknown>((items) => instance.invoke(m.name, items), {
            runner: r.name,
            method: m.name,
            enabled: b.enabled,
            maxBatchSize: b.maxBatchSize,
            maxLatencyMs: b.maxLatencyMs,
            maxQueueSize: b.maxQueueSize,
            groupByLength: m.groupByLength,
            telemetry,
          }),
        );
      }
      state.status = "ready";
      delete state.detail;
    } catch (err) {
      state.status = "failed";
      state.detail = (err as Error).message;
    }
  }

  const handle = (name: string): RunnerHandle => {
    const state = stateOf(name);
    return {
      name,
      call(method: string, items: unknown[], given?: RunnerCallOptions) {
        const opts = scopedCallOptions(given);
        if (state.remote && state.status === "ready") return state.remote.call(method, items, opts);
        if (state.status !== "ready") {
          telemetry.rejected(name, method, "not_ready");
          const why = state.detail ? `: ${state.detail}` : ` (${state.status})`;
          return Promise.reject(new ServiceUnavailableError("not_ready", `runner ${name} is not ready${why}`));
        }
        const d = state.dispatchers.get(method);
        if (!d) return Promise.reject(new Error(`runner ${name} has no batchable method ${method}`));
        return d.call(items, { signal: opts.signal, traceparent: opts.traceparent, deadline: opts.deadline });
      },
    };
  };

  return {
    runners: manifest.runners,
    get ready() {
      return [...states.values()].every(isReady);
    },
    async start() {
      const todo = [...states.values()].filter((s) => s.status !== "ready");
      await Promise.all(todo.map(startOne));
      const failed = [...states.values()].filter((s) => s.status === "failed");
      if (failed.length > 0) throw new Error(failed.map((s) => `runner ${s.manifest.name} is not ready: ${s.detail}`).join("\n"));
    },
    status() {
      return [...states.values()].map((s) => {
        const entry: { name: string; ready: boolean; detail?: string } = { name: s.manifest.name, ready: isReady(s) };
        if (s.status !== "ready") entry.detail = s.detail ?? s.status;
        else if (!entry.ready) entry.detail = s.remote?.detail ?? "not ready";
        return entry;
      });
    },
    handle,
    proxy(name) {
      const state = stateOf(name);
      const h = handle(name);
      return Object.fromEntries(state.manifest.methods.map((m) => [m.name, (items: unknown[], opts?: RunnerCallOptions) => h.call(m.name, items, opts)]));
    },
    stats(name, method) {
      return states.get(name)?.dispatchers.get(method)?.stats();
    },
    batching() {
      const out: BatchingState[] = [];
      for (const s of states.values()) for (const [method, d] of s.dispatchers) out.push({ runner: s.manifest.name, method, ...d.settings() });
      return out;
    },
    reconfigureBatching(change: BatchingChange) {
      if (change.runner !== undefined) stateOf(change.runner);
      const out: BatchingState[] = [];
      for (const s of states.values()) {
        if (change.runner !== undefined && s.manifest.name !== change.runner) continue;
        for (const [method, d] of s.dispatchers) {
          if (change.reset) {
            const b = methodBatching(effective, s.manifest, method);
            d.reconfigure({ enabled: b.enabled, maxBatchSize: b.maxBatchSize, maxLatencyMs: b.maxLatencyMs, policy: "adaptive", resetModel: true });
          }
          const next: Partial<BatchSettings> = {};
          if (change.enabled !== undefined) next.enabled = change.enabled;
          if (change.maxBatchSize !== undefined) next.maxBatchSize = change.maxBatchSize;
          if (change.maxLatencyMs !== undefined) next.maxLatencyMs = change.maxLatencyMs;
          if (change.policy !== undefined) next.policy = change.policy;
          out.push({ runner: s.manifest.name, method, ...d.reconfigure(next) });
        }
      }
      return out;
    },
    async stop() {
      await Promise.all(
        [...states.values()].map(async (s) => {
          const wasReady = s.status === "ready";
          s.status = "stopped";
          if (!wasReady) return;
          await s.remote?.stop();
          await Promise.all([...s.dispatchers.values()].map((d) => d.close()));
          await s.instance?.close().catch(() => undefined);
          s.dispatchers.clear();
          delete s.instance;
        }),
      );
    },
  };
}
