/**
 * The effective configuration, layer by layer (later wins):
 *   built-in defaults ← manifest decorator values ← bentoc.yaml ← env vars ← overrides (CLI flags).
 * Each user layer is schema-checked on its own so an error names the key path and where it came from.
 */
import { Ajv, type ErrorObject } from "ajv";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import type * as Yaml from "yaml";
import type { Manifest, RunnerManifest } from "../../sdk/manifest.ts";
import { defaultBatching, defaultConfig } from "./config-defaults.ts";
import { ConfigError, envLayer, fileLayer, overridesLayer, pointer, type ConfigIssue, type DeepPartial, type Layer } from "./config-layers.ts";
import { configSchema, schemaAt, type SchemaNode } from "./config-schema.ts";
import type { BatchingConfig, BentocConfig, RunnerConfig } from "./config-types.ts";

export { ConfigError, type DeepPartial } from "./config-layers.ts";

export interface LoadConfigOptions {
  manifest?: Manifest | undefined;
  /** A bentoc.yaml path (must exist); undefined: `./bentoc.yaml` when present; null: no file. */
  file?: string | null | undefined;
  /** Where `./bentoc.yaml` is looked for (default process.cwd()). */
  cwd?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  overrides?: DeepPartial<BentocConfig> | undefined;
}

/**
 * Compiled on first use: the CLI imports this module for every command. Without ajv's own check of the
 * schema against the draft-07 meta-schema (`validateSchema: false`, which compiles the meta-schema
 * first and took most of the time here): the schema is ours and fixed, and
 * test/unit/config/load-config.test.ts checks it against the meta-schema instead.
 */
export const CONFIG_AJV_OPTIONS = { allErrors: true, strict: false, validateSchema: false } as const;
let compiled: ReturnType<Ajv["compile"]> | undefined;
const validator = (): ReturnType<Ajv["compile"]> => (compiled ??= new Ajv(CONFIG_AJV_OPTIONS).compile(configSchema));

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isObject(out[k]) && isObject(v) ? deepMerge(out[k], v) : structuredClone(v);
  }
  return out as T;
}

function describe(e: ErrorObject): { path: string[]; message: string } {
  const path = e.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (e.keyword === "additionalProperties") {
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys(schemaAt(path)?.properties ?? {}).join(", ");
    return { path: [...path, key], message: `unknown key (allowed: ${allowed})` };
  }
  if (e.keyword === "enum") return { path, message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}` };
  return { path, message: e.message ?? "is invalid" };
}

function check(layer: Layer): void {
  const validate = validator();
  if (validate(layer.value)) return;
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const { path, message } = describe(e);
    let origin = layer.origins.get(pointer(path));
    for (let i = path.length - 1; !origin && i >= 0; i--) origin = layer.origins.get(pointer(path.slice(0, i)));
    const issue = {
      path: origin?.display && layer.origins.has(pointer(path)) ? origin.display : path.join("."),
      source: origin?.source ?? layer.source,
      message,
    };
    const key = `${issue.source}|${issue.path}|${message}`;
    if (!seen.has(key)) {
      issues.push(issue);
      seen.add(key);
    }
  }
  throw new ConfigError(issues);
}

function checkRunnerNames(layer: Layer, manifest: Manifest | undefined): void {
  if (!manifest || !isObject(layer.value["runners"])) return;
  const names = manifest.runners.map((r) => r.name);
  const issues: ConfigIssue[] = [];
  for (const [name, rc] of Object.entries(layer.value["runners"])) {
    const runner = manifest.runners.find((r) => r.name === name);
    const origin = layer.origins.get(pointer(["runners", name]));
    if (!runner) {
      issues.push({
        path: origin?.display ?? `runners.${name}`,
        source: origin?.source ?? layer.source,
        message: `no runner named "${name}" in service ${manifest.service.name} (runners: ${names.join(", ") || "none"})`,
      });
      continue;
    }
    const methods = isObject(rc) && isObject(rc["methods"]) ? Object.keys(rc["methods"]) : [];
    for (const m of methods) {
      if (runner.methods.some((x) => x.name === m)) continue;
      const o = layer.origins.get(pointer(["runners", name, "methods", m]));
      issues.push({
        path: o?.display ?? `runners.${name}.methods.${m}`,
        source: o?.source ?? layer.source,
        message: `runner ${name} has no batchable method "${m}" (methods: ${runner.methods.map((x) => x.name).join(", ") || "none"})`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

/** What the decorators say for a runner (the runner-level batching takes values all methods agree on). */
function manifestRunner(r: RunnerManifest): RunnerConfig {
  const batching = defaultBatching();
  const first = r.methods[0];
  if (first && r.methods.every((m) => m.maxBatchSize === first.maxBatchSize)) batching.maxBatchSize = first.maxBatchSize;
  if (first && r.methods.every((m) => m.maxLatencyMs === first.maxLatencyMs)) batching.maxLatencyMs = first.maxLatencyMs;
  return { placement: r.placement, threads: r.threads, batching, methods: {}, url: null };
}

export function loadConfig(options: LoadConfigOptions = {}): BentocConfig {
  const { manifest } = options;
  const env = options.env ?? process.env;
  let config = defaultConfig();
  if (manifest) {
    config.server.timeoutMs = manifest.service.traffic.timeoutMs;
    config.server.maxConcurrency = manifest.service.traffic.maxConcurrency;
    for (const r of manifest.runners) config.runners[r.name] = manifestRunner(r);
  }
  const layers: Layer[] = [];
  const file = options.file === undefined ? resolve(options.cwd ?? process.cwd(), "bentoc.yaml") : options.file;
  if (file !== null && (options.file !== undefined || existsSync(file))) layers.push(fileLayer(resolve(options.cwd ?? process.cwd(), file)));
  const knownNames = {
    runners: manifest?.runners.map((r) => r.name) ?? [],
    methods: Object.fromEntries((manifest?.runners ?? []).map((r) => [r.name, r.methods.map((m) => m.name)])),
  };
  layers.push(envLayer(env, knownNames));
  if (options.overrides) layers.push(overridesLayer(options.overrides as Record<string, unknown>));

  const userRunners: Record<string, { batching?: Partial<BatchingConfig>; methods?: Record<string, Partial<BatchingConfig>> }> = {};
  for (const layer of layers) {
    check(layer);
    checkRunnerNames(layer, manifest);
    config = deepMerge(config, layer.value);
    if (isObject(layer.value["runners"])) Object.assign(userRunners, deepMerge(userRunners, layer.value["runners"]));
  }
  // Fill defaults into runners only the user named, then resolve each batchable method completely:
  // defaults ← its decorator ← the user's runner-level batching ← the user's method-level batching.
  for (const [name, rc] of Object.entries(config.runners)) {
    config.runners[name] = deepMerge<RunnerConfig>({ placement: "inline", threads: null, batching: defaultBatching(), methods: {}, url: null }, rc);
  }
  for (const r of manifest?.runners ?? []) {
    const rc = config.runners[r.name] as RunnerConfig;
    const user = userRunners[r.name] ?? {};
    for (const m of r.methods) {
      rc.methods[m.name] = {
        ...defaultBatching(),
        maxBatchSize: m.maxBatchSize,
        maxLatencyMs: m.maxLatencyMs,
        ...(user.batching ?? {}),
        ...(user.methods?.[m.name] ?? {}),
      };
    }
  }
  return config;
}

/** The batching settings one method runs with (works for configs not made by loadConfig too). */
export function methodBatching(config: BentocConfig | undefined, runner: RunnerManifest, method: string): BatchingConfig {
  const m = runner.methods.find((x) => x.name === method);
  const base: BatchingConfig = { ...defaultBatching(), ...(m ? { maxBatchSize: m.maxBatchSize, maxLatencyMs: m.maxLatencyMs } : {}) };
  const rc = config?.runners[runner.name];
  if (!rc) return base;
  const resolved = rc.methods[method];
  // loadConfig stores complete method entries; a hand-made config may hold partial ones over runner-level values.
  return { ...base, ...rc.batching, ...(resolved ?? {}) };
}

function snakeKeys(value: unknown, schema: SchemaNode | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => snakeKeys(v, schema?.items));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (schema?.properties) {
      out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeKeys(v, schema.properties[k]);
    } else {
      out[k] = snakeKeys(v, typeof schema?.additionalProperties === "object" ? schema.additionalProperties : undefined);
    }
  }
  return out;
}

/** The effective config as bentoc.yaml-style YAML (snake_case keys, loadable as is) or JSON (camelCase). */
export function printConfig(config: BentocConfig, format: "yaml" | "json" = "yaml"): string {
  if (format === "json") return `${JSON.stringify(config, null, 2)}\n`;
  // yaml loads here, on first use (`bentoc config`), not with every process that reads a config.
  const { stringify } = createRequire(import.meta.url)("yaml") as typeof Yaml;
  return stringify(snakeKeys(config, schemaAt([])), { lineWidth: 0 });
}
