/**
 * The manifest: the compiler's IR, written as `bento.json`. Emitters and the runtime read only this.
 * Everything here is plain JSON; key order is fixed by the compiler so output is deterministic.
 */
import type { IODescriptor } from "./io.ts";
import type { Resources } from "./types.ts";

export const MANIFEST_SCHEMA_VERSION = 3 as const;

/** A JSON Schema 2020-12 object (kept loose: the compiler builds it, ajv checks it). */
export type JsonSchema = { [key: string]: unknown };

export interface Manifest {
  schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  /** bentoc version that produced it. */
  compiler: string;
  service: ServiceManifest;
  runners: RunnerManifest[];
  /** Model tags referenced by runners, sorted. */
  models: string[];
  /** Named schemas referenced with `{ "$ref": "#/$defs/Name" }` from API and runner schemas. */
  $defs: Record<string, JsonSchema>;
  /** Where the code lives: `source` relative to the project root, `bundle` relative to the output dir. */
  entry: { source: string; bundle: string };
}

export interface ServiceManifest {
  name: string;
  /** The exported class name in the bundle. */
  className: string;
  version: string;
  description?: string;
  labels: Record<string, string>;
  traffic: { timeoutMs: number; maxConcurrency: number };
  resources: Resources;
  secrets: string[];
  apis: ApiManifest[];
  /** Fields initialised with `depends(RunnerClass)`: the runtime injects the live runner there. */
  dependencies: { property: string; runner: string }[];
}

export interface ApiManifest {
  /** The method name. */
  name: string;
  route: string;
  method: "POST" | "GET";
  summary?: string;
  description?: string;
  input: IoSpec;
  /** What the handler returns; for a streaming API, one item of the stream (`output.schema` is T's schema). */
  output: IoSpec;
  /**
   * Whether the API streams: the handler returns `AsyncIterable<T>` / `AsyncGenerator<T>` (possibly in a
   * Promise) and the server sends each item as it is produced, as Server-Sent Events or NDJSON.
   */
  streaming: boolean;
  /** Whether the handler takes a `Context` as its second parameter. */
  takesContext: boolean;
  /**
   * Whether the handler may call a runner (read from the source, conservatively): the runtime then runs it
   * in the request's call scope, so runner calls inherit its deadline, abort signal and trace context.
   */
  callsRunners: boolean;
  /** Examples from JSDoc `@example` on the method, parsed as JSON when possible. */
  examples: unknown[];
}

/** An IO descriptor plus the JSON Schema of the value the handler takes or returns. */
export interface IoSpec {
  descriptor: IODescriptor;
  schema: JsonSchema;
}

export interface RunnerManifest {
  name: string;
  className: string;
  model: string | null;
  placement: "inline" | "worker";
  resources: Resources;
  threads: number | null;
  /** Replica range of the runner's Deployment in the split layout. */
  scaling: { minReplicas: number; maxReplicas: number };
  methods: RunnerMethodManifest[];
}

export interface RunnerMethodManifest {
  name: string;
  batchable: true;
  batchDim: number;
  maxBatchSize: number;
  maxLatencyMs: number;
  groupByLength: boolean;
  /** Schema of one batch item in and out (the method takes and returns arrays of these). */
  input: JsonSchema;
  output: JsonSchema;
}

export const DEFAULTS = {
  timeoutMs: 60_000,
  maxConcurrency: 1024,
  maxBatchSize: 32,
  maxLatencyMs: 10,
  batchDim: 0,
  runnerMinReplicas: 1,
  runnerMaxReplicas: 10,
} as const;
