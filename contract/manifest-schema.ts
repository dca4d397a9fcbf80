/**
 * The JSON Schema (2020-12) of `bento.json`, the manifest the compiler writes and the runtime reads
 * (`Manifest` in sdk/manifest.ts). The runtime checks every manifest against it at load
 * (contract/manifest-check.ts). Objects are closed (`additionalProperties: false`) except JSON Schemas and
 * labels, so a misspelt field is caught too. test/unit/contract/manifest-schema.test.ts holds the type and
 * this schema to the same keys, and every sample's compiled manifest to this schema.
 */
import { MANIFEST_SCHEMA_VERSION } from "../sdk/manifest.ts";
import { ROUTE_PATTERN } from "./server-routes.ts";

const string = { type: "string" } as const;
const strings = { type: "array", items: string } as const;
const boolean = { type: "boolean" } as const;
const count = { type: "integer", minimum: 0 } as const;
const positive = { type: "integer", minimum: 1 } as const;
const jsonSchema = { type: "object" } as const;
/** The `kind`s of an IO descriptor (`IODescriptor` in sdk/io.ts). */
export const IO_DESCRIPTOR_KINDS = ["json", "text", "ndarray", "image", "file", "multipart"] as const;
const dtypes = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"] as const;

/** The closed object schema of one IO descriptor kind. */
function descriptor<const K extends string, const P extends object, const R extends readonly string[]>(kind: K, properties: P, required: R) {
  return {
    type: "object",
    properties: { kind: { const: kind }, ...properties },
    required: ["kind", ...required] as ["kind", ...R],
    additionalProperties: false,
  } as const;
}

/** Each object schema of the manifest, by the name of its TypeScript type (`JsonSchemaDefs` below). */
const defs = {
  Manifest: {
    type: "object",
    properties: {
      schemaVersion: { const: MANIFEST_SCHEMA_VERSION },
      compiler: string,
      service: { $ref: "#/$defs/ServiceManifest" },
      runners: { type: "array", items: { $ref: "#/$defs/RunnerManifest" } },
      models: strings,
      $defs: { type: "object", additionalProperties: jsonSchema },
      entry: { $ref: "#/$defs/Entry" },
    },
    required: ["schemaVersion", "compiler", "service", "runners", "models", "$defs", "entry"],
    additionalProperties: false,
  },
  Entry: {
    type: "object",
    properties: { source: string, bundle: { type: "string", minLength: 1 } },
    required: ["source", "bundle"],
    additionalProperties: false,
  },
  ServiceManifest: {
    type: "object",
    properties: {
      name: { type: "string", minLength: 1 },
      className: { type: "string", minLength: 1 },
      version: string,
      description: string,
      labels: { type: "object", additionalProperties: string },
      traffic: { $ref: "#/$defs/Traffic" },
      resources: { $ref: "#/$defs/Resources" },
      secrets: strings,
      apis: { type: "array", items: { $ref: "#/$defs/ApiManifest" } },
      dependencies: { type: "array", items: { $ref: "#/$defs/Dependency" } },
    },
    required: ["name", "className", "version", "labels", "traffic", "resources", "secrets", "apis", "dependencies"],
    additionalProperties: false,
  },
  Traffic: {
    type: "object",
    properties: { timeoutMs: { type: "number", exclusiveMinimum: 0 }, maxConcurrency: positive },
    required: ["timeoutMs", "maxConcurrency"],
    additionalProperties: false,
  },
  Resources: {
    type: "object",
    properties: { cpu: string, memory: string, gpu: { type: "number", minimum: 0 } },
    required: [],
    additionalProperties: false,
  },
  Dependency: {
    type: "object",
    properties: { property: string, runner: string },
    required: ["property", "runner"],
    additionalProperties: false,
  },
  ApiManifest: {
    type: "object",
    properties: {
      name: string,
      route: { type: "string", pattern: ROUTE_PATTERN.source },
      method: { enum: ["POST", "GET"] },
      summary: string,
      description: string,
      input: { $ref: "#/$defs/IoSpec" },
      output: { $ref: "#/$defs/IoSpec" },
      streaming: boolean,
      takesContext: boolean,
      callsRunners: boolean,
      examples: { type: "array" },
    },
    required: ["name", "route", "method", "input", "output", "streaming", "takesContext", "callsRunners", "examples"],
    additionalProperties: false,
  },
  IoSpec: {
    type: "object",
    properties: { descriptor: { $ref: "#/$defs/IODescriptor" }, schema: jsonSchema },
    required: ["descriptor", "schema"],
    additionalProperties: false,
  },
  IODescriptor: {
    type: "object",
    discriminator: { propertyName: "kind" },
    oneOf: [
      { $ref: "#/$defs/JsonDescriptor" },
      { $ref: "#/$defs/TextDescriptor" },
      { $ref: "#/$defs/NdArrayDescriptor" },
      { $ref: "#/$defs/ImageDescriptor" },
      { $ref: "#/$defs/FileDescriptor" },
      { $ref: "#/$defs/MultipartDescriptor" },
    ],
  },
  JsonDescriptor: descriptor("json", {}, []),
  TextDescriptor: descriptor("text", {}, []),
  NdArrayDescriptor: descriptor("ndarray", { dtype: { enum: dtypes }, shape: { type: "array", items: { type: ["integer", "null"] } } }, []),
  ImageDescriptor: descriptor("image", { formats: { type: "array", items: { enum: ["png", "jpeg"] } }, maxPixels: positive }, []),
  FileDescriptor: descriptor("file", { contentType: string }, []),
  MultipartDescriptor: descriptor("multipart", { parts: { type: "object", additionalProperties: { $ref: "#/$defs/IODescriptor" } } }, ["parts"]),
  RunnerManifest: {
    type: "object",
    properties: {
      name: { type: "string", minLength: 1 },
      className: { type: "string", minLength: 1 },
      model: { type: ["string", "null"] },
      placement: { enum: ["inline", "worker"] },
      resources: { $ref: "#/$defs/Resources" },
      threads: { type: ["integer", "null"], minimum: 1 },
      scaling: { $ref: "#/$defs/Scaling" },
      methods: { type: "array", items: { $ref: "#/$defs/RunnerMethodManifest" } },
    },
    required: ["name", "className", "model", "placement", "resources", "threads", "scaling", "methods"],
    additionalProperties: false,
  },
  Scaling: {
    type: "object",
    properties: { minReplicas: positive, maxReplicas: positive },
    required: ["minReplicas", "maxReplicas"],
    additionalProperties: false,
  },
  RunnerMethodManifest: {
    type: "object",
    properties: {
      name: string,
      batchable: { const: true },
      batchDim: count,
      maxBatchSize: positive,
      maxLatencyMs: { type: "number", minimum: 0 },
      groupByLength: boolean,
      input: jsonSchema,
      output: jsonSchema,
    },
    required: ["name", "batchable", "batchDim", "maxBatchSize", "maxLatencyMs", "groupByLength", "input", "output"],
    additionalProperties: false,
  },
} as const;

export type ManifestSchemaDefs = typeof defs;

/** The schema of `bento.json`: `Manifest` at the root, its parts under `$defs`. */
export const MANIFEST_JSON_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://bentoc.dev/schemas/bento.json",
  title: "bentoc manifest (bento.json)",
  $ref: "#/$defs/Manifest",
  $defs: defs,
} as const;
