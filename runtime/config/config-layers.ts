/**
 * The user-supplied layers of the configuration, each turned into a partial config plus where every key
 * came from (file line or env var), so validation errors can point at the exact source.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Yaml from "yaml";
import type { Node } from "yaml";
import { camelCase, propertyName, type SchemaNode, schemaAt } from "./config-schema.ts";

// yaml (CommonJS) loads when a bentoc.yaml is read, not with every process that loads a config.
const require = createRequire(import.meta.url);

export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Where a key path came from: a line of a file, an env var, or a CLI flag. */
export interface Origin {
  /** The key path as the user wrote it (dotted), for messages. */
  display: string;
  /** "bentoc.yaml:12", "env BENTOC_PORT", "overrides". */
  source: string;
}

export interface Layer {
  value: Record<string, unknown>;
  /** JSON pointer of the normalised (camelCase) path → origin. */
  origins: Map<string, Origin>;
  /** Name of the layer for messages without a more precise origin. */
  source: string;
}

export interface ConfigIssue {
  path: string;
  source: string;
  message: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly code = "invalid_config";
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.source}: ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n"));
  }
}

export function pointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** Reads and normalises a bentoc.yaml file (snake_case or camelCase keys) keeping each key's line. */
export function fileLayer(file: string): Layer {
  if (!existsSync(file)) throw new ConfigError([{ path: "", source: file, message: "config file not found" }]);
  const text = readFileSync(file, "utf8");
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = require("yaml") as typeof Yaml;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => `${file}:${offset === undefined ? 1 : lineCounter.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ path: "", source: at(e.pos[0]), message: e.message.split("\n")[0] ?? e.message })));
  }
  const origins = new Map<string, Origin>();
  const walk = (node: unknown, schema: SchemaNode | undefined, path: string[], display: string[]): unknown => {
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const raw = String(isScalar(keyNode) ? keyNode.value : keyNode);
        let name = raw;
        let child: SchemaNode | undefined;
        if (schema?.properties) {
          name = propertyName(schema, raw) ?? raw;
          child = schema.properties[name];
        } else if (schema && typeof schema.additionalProperties === "object") {
          child = schema.additionalProperties;
        }
        const p = [...path, name];
        origins.set(pointer(p), { display: [...display, raw].join("."), source: at(keyNode?.range?.[0]) });
        out[name] = walk(pair.value, child, p, [...display, raw]);
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const p = [...path, String(i)];
        origins.set(pointer(p), { display: `${display.join(".")}[${i}]`, source: at((item as Node | null)?.range?.[0]) });
        return walk(item, schema?.items, p, [...display.slice(0, -1), `${display.at(-1) ?? ""}[${i}]`]);
      });
    }
    if (isScalar(node)) return node.value;
    return null;
  };
  const value = doc.contents === null ? {} : walk(doc.contents, schemaAt([]), [], []);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError([
      { path: "", source: at(0), message: "the config file must be a mapping of keys (server, runners, metrics, tracing, logging, home)" },
    ]);
  }
  return { value: value as Record<string, unknown>, origins, source: file };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let obj = target;
  for (const key of path.slice(0, -1)) {
    const next = obj[key];
    if (next === null || typeof next !== "object" || Array.isArray(next)) obj[key] = {};
    obj = obj[key] as Record<string, unknown>;
  }
  obj[path.at(-1) as string] = value;
}

function coerce(raw: string, schema: SchemaNode | undefined, variable: string): unknown {
  const types = schema?.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type as string];
  if (types.includes("null") && (raw === "" || raw.toLowerCase() === "null")) return null;
  if (types.includes("integer") || types.includes("number")) {
    const n = Number(raw);
    if (raw.trim() === "" || Number.isNaN(n)) throw new ConfigError([{ path: "", source: `env ${variable}`, message: `must be a number, got "${raw}"` }]);
    return n;
  }
  if (types.includes("boolean")) {
    const v = raw.toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    throw new ConfigError([{ path: "", source: `env ${variable}`, message: `must be true or false, got "${raw}"` }]);
  }
  if (types.includes("array")) {
    const parts = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    return schema?.items?.type === "number" ? parts.map(Number) : parts;
  }
  if (types.includes("object")) {
    return Object.fromEntries(
      raw
        .split(",")
        .filter((s) => s.includes("="))
        .map((s) => [s.slice(0, s.indexOf("=")).trim(), s.slice(s.indexOf("=") + 1).trim()]),
    );
  }
  return raw;
}

const NAMED_ENV: Array<[string, string[]]> = [
  ["BENTOC_ADMIN_TOKEN", ["server", "adminToken"]],
  ["BENTOC_HOME", ["home"]],
  ["BENTOC_HOST", ["server", "host"]],
  ["BENTOC_HTTP", ["server", "http"]],
  ["BENTOC_PORT", ["server", "port"]],
  ["BENTOC_WORKERS", ["server", "workers"]],
  ["BENTOC_LOG_LEVEL", ["logging", "level"]],
  ["BENTOC_TRACING_SAMPLE_RATE", ["tracing", "sampleRate"]],
];

/**
 * Env vars: the named ones above, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT +
 * `/v1/traces`), and generic double-underscore paths such as
 * `BENTOC_RUNNERS__TICKET_CLASSIFIER__BATCHING__MAX_BATCH_SIZE=16`. Map keys (runner and method names)
 * are matched to `knownNames` ignoring case, `-` and `_`.
 */
export function envLayer(env: NodeJS.ProcessEnv, knownNames: { runners: string[]; methods: Record<string, string[]> }): Layer {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  const put = (path: string[], raw: string, variable: string) => {
    setPath(value, path, coerce(raw, schemaAt(path), variable));
    origins.set(pointer(path), { display: path.join("."), source: `env ${variable}` });
  };
  const squash = (s: string) => s.replace(/[-_]/g, "").toLowerCase();
  for (const [variable, path] of NAMED_ENV) {
    const raw = env[variable];
    if (raw !== undefined && raw !== "") put(path, raw, variable);
  }
  const traces = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];
  const base = env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  if (traces) put(["tracing", "endpoint"], traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  else if (base) put(["tracing", "endpoint"], `${base.replace(/\/+$/, "")}/v1/traces`, "OTEL_EXPORTER_OTLP_ENDPOINT");

  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith("BENTOC_") || !variable.includes("__")) continue;
    const raw = env[variable] as string;
    const segments = variable.slice("BENTOC_".length).split("__");
    const path: string[] = [];
    let node = schemaAt([]);
    for (const seg of segments) {
      if (node?.properties) {
        const name = propertyName(node, seg);
        if (!name) {
          const allowed = Object.keys(node.properties).join(", ");
          throw new ConfigError([{ path: path.join("."), source: `env ${variable}`, message: `unknown key "${seg}" (allowed: ${allowed})` }]);
        }
        path.push(name);
        node = node.properties[name];
      } else if (node && typeof node.additionalProperties === "object") {
        const parent = path.at(-1);
        const candidates = parent === "runners" ? knownNames.runners : parent === "methods" ? (knownNames.methods[path.at(-2) ?? ""] ?? []) : [];
        const found = candidates.find((c) => squash(c) === squash(seg));
        path.push(found ?? (parent === "runners" ? seg.toLowerCase().replace(/_/g, "-") : parent === "methods" ? camelCase(seg.toLowerCase()) : seg));
        node = node.additionalProperties;
      } else {
        throw new ConfigError([{ path: path.join("."), source: `env ${variable}`, message: `"${seg}" goes below a value that has no keys` }]);
      }
    }
    put(path, raw, variable);
  }
  return { value, origins, source: "environment" };
}

export function overridesLayer(overrides: Record<string, unknown>): Layer {
  return { value: overrides, origins: new Map(), source: "overrides" };
}
