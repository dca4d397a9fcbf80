/**
 * The model every client file is rendered from: TypeScript names for the schemas the client needs,
 * their declarations, and per API the input/output types and the wire spec the runtime follows.
 * `index.ts`, `index.js` and `index.d.ts` are all rendered from this one model.
 */

import { defRefName, resolveRef } from "../../../contract/schema-ref.ts";
import type { IODescriptor } from "../../../sdk/io.ts";
import type { ApiManifest, JsonSchema, Manifest } from "../../../sdk/manifest.ts";
import { type InputTransport, imageFormats, inputTransport, mediaTypes, objectProperties, requiredFields } from "../openapi/api-io.ts";
import { allocateNames } from "../openapi/def-refs.ts";
import { renderDeclaration, renderDocComment, renderType, type TsRenderContext } from "./schema-to-ts.ts";

/** Names the runtime part of the client exports or uses; generated types never take them. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  // exported by the runtime
  "ErrorBody",
  "BentocClientError",
  "FetchLike",
  "ClientOptions",
  "CallOptions",
  "BinaryInput",
  "DType",
  "NdArrayJson",
  "NdArrayInput",
  "createClient",
  // internal to the runtime
  "DTypeValue",
  "IoKind",
  "ApiSpec",
  "ApiMethod",
  "APIS",
  // globals the runtime's types use (a generated type of that name would shadow them)
  "PreparedCall",
  "NOTHING",
  "Array",
  "ArrayBuffer",
  "ArrayLike",
  "AbortController",
  "AbortSignal",
  "AsyncGenerator",
  "AsyncIterable",
  "TextDecoder",
  "Symbol",
  "Blob",
  "BlobPart",
  "BodyInit",
  "Error",
  "FormData",
  "Headers",
  "JSON",
  "Math",
  "Number",
  "Object",
  "Partial",
  "Promise",
  "Readonly",
  "Record",
  "RequestInit",
  "Response",
  "String",
  "TypeError",
  "URLSearchParams",
  "Uint8Array",
]);

export interface ClientApi {
  name: string;
  method: "GET" | "POST";
  route: string;
  doc: string;
  transport: InputTransport;
  /** A streaming API: the client method returns `AsyncIterable<output>` (the output type is one item). */
  streaming: boolean;
  /** Whether the input may be left out (a query whose fields are all optional). */
  inputOptional: boolean;
  inputTypeName: string;
  outputTypeName: string;
  inputType: string;
  outputType: string;
  /** What the runtime's `ApiSpec` holds for this API (plain JSON). */
  spec: Record<string, unknown>;
}

export interface ClientModel {
  serviceName: string;
  version: string;
  description: string | undefined;
  compiler: string;
  clientTypeName: string;
  /** `export interface/type` source of each schema the client uses, sorted by name. */
  declarations: string[];
  apis: ClientApi[];
}

export function buildClientModel(manifest: Manifest): ClientModel {
  const { service } = manifest;
  const clientTypeName = `${pascal(service.name)}Client`;
  const used = reachableDefs(manifest);
  const typeNames = allocateNames([...used], new Set([...RESERVED_NAMES, clientTypeName]), identifier);
  const ctx: TsRenderContext = { typeName: (def) => typeNames.get(def) };
  const taken = new Set([...RESERVED_NAMES, clientTypeName, ...typeNames.values()]);
  const fresh = (name: string): string => {
    let n = name;
    while (taken.has(n)) n += "_";
    taken.add(n);
    return n;
  };

  const declarations = [...typeNames.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([def, name]) => renderDeclaration(name, manifest.$defs[def] ?? {}, ctx));

  const apis = service.apis.map((api): ClientApi => {
    const transport = inputTransport(api);
    const inputSchema = resolveRef(api.input.schema, manifest.$defs).schema;
    return {
      name: api.name,
      method: api.method,
      route: api.route,
      doc: apiDoc(api),
      transport,
      streaming: api.streaming,
      inputOptional: transport === "query" && requiredFields(inputSchema).length === 0,
      inputTypeName: fresh(`${pascal(api.name)}Input`),
      outputTypeName: fresh(`${pascal(api.name)}${api.streaming ? "Item" : "Output"}`),
      inputType: transport === "none" ? "void" : inputType(api, manifest, ctx),
      outputType: outputType(api, ctx),
      spec: apiSpec(api, transport),
    };
  });
  return {
    serviceName: service.name,
    version: service.version,
    description: service.description,
    compiler: manifest.compiler,
    clientTypeName,
    declarations,
    apis,
  };
}

function inputType(api: ApiManifest, manifest: Manifest, ctx: TsRenderContext): string {
  const { descriptor, schema } = api.input;
  if (descriptor.kind !== "multipart") return valueType(descriptor, schema, ctx, "input");
  const objectSchema = resolveRef(schema, manifest.$defs).schema;
  const partSchemas = objectProperties(objectSchema);
  const required = Object.keys(partSchemas).length > 0 ? new Set(requiredFields(objectSchema)) : new Set(Object.keys(descriptor.parts));
  const lines = Object.entries(descriptor.parts).map(([name, part]) => {
    const partSchema = partSchemas[name] ?? {};
    const doc = part.kind === "json" ? renderDocComment(partSchema, "  ") : "";
    const key = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
    return `${doc}  ${key}${required.has(name) ? "" : "?"}: ${valueType(part, partSchema, ctx, "input", "  ")};\n`;
  });
  return `{\n${lines.join("")}}`;
}

function outputType(api: ApiManifest, ctx: TsRenderContext): string {
  return valueType(api.output.descriptor, api.output.schema, ctx, "output");
}

function valueType(descriptor: IODescriptor, schema: JsonSchema, ctx: TsRenderContext, side: "input" | "output", indent = ""): string {
  switch (descriptor.kind) {
    case "json":
      return renderType(schema, ctx, indent);
    case "text":
      return "string";
    case "ndarray": {
      const generic = side === "input" ? "NdArrayInput" : "NdArrayJson";
      return descriptor.dtype ? `${generic}<${JSON.stringify(descriptor.dtype)}>` : generic;
    }
    case "image":
    case "file":
    case "multipart":
      return side === "input" ? "BinaryInput" : "Blob";
  }
}

function apiSpec(api: ApiManifest, transport: InputTransport): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    method: api.method,
    route: api.route,
    input: transport,
    in: api.input.descriptor.kind,
    out: api.output.descriptor.kind,
    accept: api.streaming ? "application/x-ndjson" : acceptFor(api.output.descriptor),
  };
  if (api.streaming) spec["stream"] = true;
  const input = api.input.descriptor;
  if (input.kind === "image" || input.kind === "file") spec["contentType"] = defaultContentType(input);
  if (input.kind === "multipart") {
    spec["parts"] = Object.fromEntries(
      Object.entries(input.parts).map(([name, part]) => {
        const contentType = part.kind === "image" || part.kind === "file" ? defaultContentType(part) : undefined;
        return [name, contentType ? { kind: part.kind, contentType } : { kind: part.kind }];
      }),
    );
  }
  return spec;
}

function defaultContentType(d: Extract<IODescriptor, { kind: "image" | "file" }>): string {
  return d.kind === "image" ? `image/${imageFormats(d)[0] ?? "png"}` : (d.contentType ?? "application/octet-stream");
}

function acceptFor(d: IODescriptor): string {
  switch (d.kind) {
    case "json":
    case "ndarray":
      return "application/json";
    case "text":
      return "text/plain";
    case "image":
      return mediaTypes(d).join(", ");
    case "file":
      return d.contentType ?? "*/*";
    case "multipart":
      return "*/*";
  }
}

function apiDoc(api: ApiManifest): string {
  const lines: string[] = [];
  if (api.summary) lines.push(...api.summary.split("\n"));
  if (api.description) lines.push(...(lines.length ? [""] : []), ...api.description.split("\n"));
  lines.push(...(lines.length ? [""] : []), `\`${api.method} ${api.route}\``);
  if (api.streaming) {
    lines.push(
      "",
      "Streams: iterate with `for await`; each item arrives as the service produces it. Leaving the loop or aborting `options.signal`",
      "closes the stream (the service stops producing); an error after the first item rejects the loop with a `BentocClientError`.",
    );
  }
  for (const example of api.examples) lines.push(`@example ${JSON.stringify(example)}`);
  return lines.map((l) => l.replace(/\*\//g, "*\\/")).join("\n");
}

/** `$defs` reachable from the schemas the client shows (JSON bodies, query inputs, JSON parts). */
function reachableDefs(manifest: Manifest): Set<string> {
  const roots: unknown[] = [];
  for (const api of manifest.service.apis) {
    for (const io of [api.input, api.output]) {
      if (io.descriptor.kind === "json") roots.push(io.schema);
      if (io.descriptor.kind === "multipart") {
        const props = objectProperties(resolveRef(io.schema, manifest.$defs).schema);
        for (const [name, part] of Object.entries(io.descriptor.parts)) if (part.kind === "json") roots.push(props[name]);
      }
    }
  }
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== "object") return;
    for (const [key, v] of Object.entries(value)) {
      const def = key === "$ref" ? defRefName(v) : undefined;
      if (def !== undefined && !found.has(def) && manifest.$defs[def]) {
        found.add(def);
        visit(manifest.$defs[def]);
      } else visit(v);
    }
  };
  roots.forEach(visit);
  return found;
}

export function pascal(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(joined) ? `_${joined}` : joined || "Service";
}

function identifier(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_$]/g, "_");
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned || "_";
}
