/**
 * Brings one runner to life in the current thread: instantiates its class from the bundle, loads its model
 * (when it has one) into the `model` field, runs `setup()` and `warmup()`. Used by the inline placement
 * directly and by the worker placement inside its worker thread.
 */
import type { RunnerManifest } from "../../sdk/manifest.ts";

export interface RunnerInstanceOptions {
  /** Model store directory. */
  home?: string | undefined;
  threads?: number | null | undefined;
}

export interface RunnerInstance {
  /** Runs batchable method `method` on `items` (the raw method: the dispatcher checks its contract). */
  invoke(method: string, items: unknown[]): Promise<ArrayLike<unknown>>;
  /** ms spent loading the model (0 without one). */
  readonly modelLoadMs: number;
  close(): Promise<void>;
}

type Instance = Record<string, unknown>;

export async function createRunnerInstance(
  runner: RunnerManifest,
  module: Record<string, unknown>,
  options: RunnerInstanceOptions = {},
): Promise<RunnerInstance> {
  const Cls = module[runner.className];
  if (typeof Cls !== "function") throw new Error(`the bundle does not export runner class ${runner.className}`);
  let instance: Instance;
  try {
    instance = new (Cls as new () => Instance)();
  } catch (err) {
    throw new Error(`constructing ${runner.className} failed: ${(err as Error).message}`, { cause: err });
  }
  let model: { close?: () => Promise<void> } | undefined;
  let modelLoadMs = 0;
  if (runner.model) {
    const started = performance.now();
    // Dynamic: the model store (and onnxruntime) load only for runners that have a model.
    const { loadOnnxModel } = await import("../models/onnx-model.ts");
    try {
      model = await loadOnnxModel(runner.model, { ...(options.home ? { home: options.home } : {}), threads: options.threads ?? null });
    } catch (err) {
      throw new Error(`model ${runner.model} failed to load: ${(err as Error).message}`, { cause: err });
    }
    modelLoadMs = performance.now() - started;
    instance["model"] = model;
  }
  const hook = async (name: "setup" | "warmup") => {
    const fn = instance[name];
    if (typeof fn !== "function") return;
    try {
      await (fn as () => unknown).call(instance);
    } catch (err) {
      throw new Error(`${runner.className}.${name}() failed: ${(err as Error).message}`, { cause: err });
    }
  };
  try {
    await hook("setup");
    await hook("warmup");
  } catch (err) {
    await model?.close?.().catch(() => undefined);
    throw err;
  }
  const methods = new Map<string, (items: unknown[]) => unknown>();
  for (const m of runner.methods) {
    const fn = instance[m.name];
    if (typeof fn !== "function") throw new Error(`runner class ${runner.className} has no method ${m.name}`);
    methods.set(m.name, (fn as (items: unknown[]) => unknown).bind(instance));
  }
  return {
    modelLoadMs,
    async invoke(method, items) {
      const fn = methods.get(method);
      if (!fn) throw new Error(`runner ${runner.name} has no batchable method ${method}`);
      return (await fn(items)) as ArrayLike<unknown>;
    },
    async close() {
      const teardown = instance["teardown"];
      if (typeof teardown === "function") await (teardown as () => unknown).call(instance);
      await model?.close?.();
    },
  };
}
