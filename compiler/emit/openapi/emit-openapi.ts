/**
 * `openapi.json`: an OpenAPI 3.1 document of the service, built with openapi3-ts from the manifest only.
 * One operation per API (operationId = API name), bodies per IO descriptor, the shared error responses,
 * `/livez` and `/readyz`. The manifest's `$defs` become `components/schemas` (refs rewritten).
 */
import {
  type ContentObject,
  type HeaderObject,
  type MediaTypeObject,
  OpenApiBuilder,
  type OperationObject,
  type ParameterObject,
  type PathItemObject,
  type ResponsesObject,
  type SchemaObject,
} from "openapi3-ts/oas31";
import { pointerToken, resolveRef } from "../../../contract/schema-ref.ts";
import { SERVER_ROUTES } from "../../../contract/server-routes.ts";
import type { IODescriptor } from "../../../sdk/io.ts";
import type { ApiManifest, JsonSchema, Manifest } from "../../../sdk/manifest.ts";
import { type JsonPath, toJson } from "../json.ts";
import { inputTransport, mediaTypes, NDARRAY_DTYPE_HEADER, NDARRAY_SHAPE_HEADER, ndarrayJsonSchema, objectProperties, requiredFields } from "./api-io.ts";
import { allocateNames, rewriteDefRefs } from "./def-refs.ts";
import { ERROR_SCHEMA, ERROR_SCHEMA_NAME, ERROR_STATUSES, errorResponse, REQUEST_ID_HEADER } from "./error-responses.ts";

const HEALTH_TAG = "health";
const BINARY: SchemaObject = { type: "string", format: "binary" };

export function emitOpenApi(manifest: Manifest): string {
  return toJson(buildOpenApi(manifest), { sortKeys: openApiKeyOrder });
}

/** The document as an object (what `emitOpenApi` serialises). */
export function buildOpenApi(manifest: Manifest): ReturnType<OpenApiBuilder["getSpec"]> {
  const { service } = manifest;
  const names = componentNames(manifest);
  const toComponents = <T>(schema: T): T => rewriteDefRefs(schema, (name) => `#/components/schemas/${pointerToken(names.get(name) ?? name)}`);
  const ctx: Ctx = { manifest, toComponents };

  const builder = OpenApiBuilder.create({
    openapi: "3.1.0",
    info: { title: service.name, version: service.version },
    paths: {},
    components: {},
  });
  if (service.description) builder.addDescription(service.description);
  builder.addTag({ name: service.name, ...(service.description ? { description: service.description } : {}) });
  builder.addTag({ name: HEALTH_TAG, description: "Liveness and readiness probes." });

  for (const name of [...names.keys()].sort()) {
    const schema = manifest.$defs[name];
    if (schema) builder.addSchema(names.get(name) ?? name, toComponents(schema) as SchemaObject);
  }
  builder.addSchema(ERROR_SCHEMA_NAME, ERROR_SCHEMA);
  builder.addHeader("RequestId", {
    description: "The request id: the one the client sent in `x-request-id`, or one the server made up.",
    schema: { type: "string" },
  });
  for (const e of ERROR_STATUSES) builder.addResponse(e.name, errorResponse(e));

  const byRoute = new Map<string, PathItemObject>();
  for (const api of service.apis) {
    const item = byRoute.get(api.route) ?? {};
    item[api.method === "GET" ? "get" : "post"] = operation(api, ctx);
    byRoute.set(api.route, item);
  }
  for (const route of [...byRoute.keys()].sort()) builder.addPath(route, byRoute.get(route) ?? {});

  builder.addPath(SERVER_ROUTES.live, { get: healthOperation("livez", "The process is alive.", false) });
  builder.addPath(SERVER_ROUTES.ready, { get: healthOperation("readyz", "Every runner is loaded and warmed.", true) });
  return builder.getSpec();
}

interface Ctx {
  manifest: Manifest;
  toComponents: <T>(schema: T) => T;
}

/** `$defs` names → component names (`^[A-Za-z0-9._-]+$`, never `Error`). */
function componentNames(manifest: Manifest): Map<string, string> {
  return allocateNames(Object.keys(manifest.$defs), new Set([ERROR_SCHEMA_NAME]), (n) => n.replace(/[^A-Za-z0-9._-]/g, "_") || "_");
}

function operation(api: ApiManifest, ctx: Ctx): OperationObject {
  const op: OperationObject = { operationId: api.name, tags: [ctx.manifest.service.name] };
  if (api.summary) op.summary = api.summary;
  if (api.description) op.description = api.description;
  const parameters: ParameterObject[] = [];
  const transport = inputTransport(api);
  if (transport === "query") parameters.push(...queryParameters(api, ctx));
  if (transport === "body") {
    op.requestBody = { required: true, content: requestContent(api, ctx) };
    if (api.input.descriptor.kind === "ndarray") parameters.push(...ndarrayHeaderParameters());
  }
  if (parameters.length > 0) op.parameters = parameters;
  if (api.streaming) op[STREAMING_EXTENSION] = true;
  const responses: ResponsesObject = { "200": api.streaming ? streamResponse(api, ctx) : successResponse(api, ctx) };
  for (const e of ERROR_STATUSES) responses[e.status] = { $ref: `#/components/responses/${e.name}` };
  op.responses = responses;
  return op;
}

function queryParameters(api: ApiManifest, ctx: Ctx): ParameterObject[] {
  const schema = resolveRef(api.input.schema, ctx.manifest.$defs).schema;
  const required = new Set(requiredFields(schema));
  return Object.entries(objectProperties(schema)).map(([name, prop]) => {
    const p: ParameterObject = { name, in: "query", required: required.has(name), schema: ctx.toComponents(prop) };
    if (typeof prop["description"] === "string") p.description = prop["description"];
    return p;
  });
}

function ndarrayHeaderParameters(): ParameterObject[] {
  return [
    {
      name: NDARRAY_DTYPE_HEADER,
      in: "header",
      required: false,
      description: "Element type of an `application/octet-stream` body (required with that body).",
      schema: { type: "string", enum: ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"] },
    },
    {
      name: NDARRAY_SHAPE_HEADER,
      in: "header",
      required: false,
      description: "Shape of an `application/octet-stream` body as comma-separated sizes, e.g. `2,8`.",
      schema: { type: "string", pattern: "^([0-9]+(,[0-9]+)*)?$" },
    },
  ];
}

function requestContent(api: ApiManifest, ctx: Ctx): ContentObject {
  const content = bodyContent(api.input.descriptor, api.input.schema, ctx);
  addExamples(content, api.examples);
  return content;
}

/** The content of a body carrying `descriptor`; `schema` is the handler's value type (JSON and text). */
function bodyContent(descriptor: IODescriptor, schema: JsonSchema, ctx: Ctx): ContentObject {
  switch (descriptor.kind) {
    case "json":
      return { "application/json": { schema: ctx.toComponents(schema) as SchemaObject } };
    case "text":
      return { "text/plain": { schema: textSchema(schema, ctx) } };
    case "ndarray":
      return {
        "application/json": { schema: ndarrayJsonSchema(descriptor) as SchemaObject },
        "application/octet-stream": { schema: BINARY },
      };
    case "image": {
      const image: SchemaObject =
        descriptor.maxPixels === undefined
          ? BINARY
          : { ...BINARY, description: `At most ${descriptor.maxPixels} pixels (width × height); larger is refused 413.` };
      return Object.fromEntries(mediaTypes(descriptor).map((m) => [m, { schema: image }]));
    }
    case "file":
      return Object.fromEntries(mediaTypes(descriptor).map((m) => [m, { schema: BINARY }]));
    case "multipart":
      return { "multipart/form-data": multipartMedia(descriptor.parts, schema, ctx) };
  }
}

function textSchema(schema: JsonSchema, ctx: Ctx): SchemaObject {
  const resolved = resolveRef(schema, ctx.manifest.$defs).schema;
  return resolved["type"] === "string" ? (ctx.toComponents(schema) as SchemaObject) : { type: "string" };
}

function multipartMedia(parts: Readonly<Record<string, IODescriptor>>, schema: JsonSchema, ctx: Ctx): MediaTypeObject {
  const objectSchema = resolveRef(schema, ctx.manifest.$defs).schema;
  const partSchemas = objectProperties(objectSchema);
  const declaredRequired = requiredFields(objectSchema);
  const properties: Record<string, SchemaObject> = {};
  const encoding: Record<string, { contentType: string }> = {};
  const names = Object.keys(parts);
  for (const name of names) {
    const part = parts[name];
    if (!part) continue;
    const partSchema = partSchemas[name] ?? {};
    switch (part.kind) {
      case "json":
        properties[name] = ctx.toComponents(partSchema) as SchemaObject;
        encoding[name] = { contentType: "application/json" };
        break;
      case "text":
        properties[name] = textSchema(partSchema, ctx);
        break;
      case "ndarray":
        properties[name] = ndarrayJsonSchema(part) as SchemaObject;
        encoding[name] = { contentType: "application/json" };
        break;
      case "image":
      case "file":
        properties[name] = BINARY;
        encoding[name] = { contentType: mediaTypes(part).join(", ") };
        break;
      case "multipart":
        properties[name] = BINARY;
        encoding[name] = { contentType: "multipart/form-data" };
        break;
    }
  }
  // Without a declared object schema every part is required.
  const required = Object.keys(partSchemas).length > 0 ? declaredRequired.filter((r) => r in parts) : names;
  const media: MediaTypeObject = {
    schema: { type: "object", properties, ...(required.length > 0 ? { required } : {}) },
  };
  if (Object.keys(encoding).length > 0) media.encoding = encoding;
  return media;
}

function addExamples(content: ContentObject, examples: readonly unknown[]): void {
  if (examples.length === 0) return;
  const [primary] = Object.keys(content);
  const media = primary !== undefined ? content[primary] : undefined;
  if (!media || !primary) return;
  const fits = primary === "text/plain" ? examples.filter((e) => typeof e === "string") : primary.endsWith("json") ? examples : [];
  if (fits.length === 0) return;
  media.examples = Object.fromEntries(fits.map((value, i) => [`example${i + 1}`, { value }]));
}

function successResponse(api: ApiManifest, ctx: Ctx) {
  const { descriptor, schema } = api.output;
  const headers: Record<string, HeaderObject | { $ref: string }> = {
    [REQUEST_ID_HEADER]: { $ref: "#/components/headers/RequestId" },
  };
  if (descriptor.kind === "ndarray") {
    headers[NDARRAY_DTYPE_HEADER] = { description: "Element type, with an `application/octet-stream` body.", schema: { type: "string" } };
    headers[NDARRAY_SHAPE_HEADER] = {
      description: "Comma-separated shape, with an `application/octet-stream` body.",
      schema: { type: "string" },
    };
  }
  return { description: "Success.", headers, content: bodyContent(descriptor, schema, ctx) };
}

/** The vendor extension marking a streaming operation, and the one giving a stream's item schema. */
export const STREAMING_EXTENSION = "x-bentoc-streaming";
export const ITEM_SCHEMA_EXTENSION = "x-bentoc-item-schema";

/**
 * A streaming API's success: Server-Sent Events (the default) or NDJSON, chosen by `Accept`. OpenAPI 3.1
 * cannot type the items of a stream, so each media type's `schema` is the text of the stream and
 * `x-bentoc-item-schema` the schema of one item (what OpenAPI 3.2 calls `itemSchema`).
 */
function streamResponse(api: ApiManifest, ctx: Ctx) {
  const item = ctx.toComponents(api.output.schema) as SchemaObject;
  const errorRef = `#/components/schemas/${ERROR_SCHEMA_NAME}`;
  const sse: MediaTypeObject = {
    schema: {
      type: "string",
      description:
        "Server-Sent Events: one `data: <item as JSON>` event per item, as the service produces it; a failure after the first item ends the stream with " +
        "`event: error` whose data is the error body (`Error`); `: heartbeat` comment lines keep idle connections open.",
    },
    [ITEM_SCHEMA_EXTENSION]: item,
    "x-bentoc-error-schema": { $ref: errorRef },
  };
  const ndjson: MediaTypeObject = {
    schema: {
      type: "string",
      description:
        "Newline-delimited JSON: one line per item, as the service produces it; a failure after the first item ends the stream with the line " +
        '`{"$error": <error body>}` (`Error`).',
    },
    [ITEM_SCHEMA_EXTENSION]: item,
    "x-bentoc-error-schema": { $ref: errorRef },
  };
  return {
    description:
      "A stream of items, sent as each is produced: Server-Sent Events unless `Accept` names `application/x-ndjson`. A failure before the first " +
      "item is an ordinary error response; after it, the stream ends with an error event in the `Error` shape.",
    headers: { [REQUEST_ID_HEADER]: { $ref: "#/components/headers/RequestId" } },
    content: { "text/event-stream": sse, "application/x-ndjson": ndjson },
  };
}

function healthOperation(operationId: string, description: string, withUnavailable: boolean): OperationObject {
  const responses: ResponsesObject = { "200": { description } };
  if (withUnavailable) responses["503"] = { $ref: "#/components/responses/ServiceUnavailable" };
  return { operationId, tags: [HEALTH_TAG], summary: description, responses };
}

/**
 * Key order in the written document: the root and schemas' `properties` keep the order they were built in
 * (it is meaningful to a reader: `openapi` first, fields in declaration order); every other object (maps
 * such as `paths`, `components/schemas`, `responses`, operations and schema keywords) is sorted.
 */
export function openApiKeyOrder(path: JsonPath): boolean {
  if (path.length === 0) return false;
  const last = path[path.length - 1];
  if (last === "properties") {
    // `properties` is a map of fields unless it is itself a field named "properties" (odd run length).
    let run = 0;
    for (let i = path.length - 1; i >= 0 && path[i] === "properties"; i--) run++;
    const before = path[path.length - 1 - run];
    if (run % 2 === 1 && before !== "schemas") return false;
  }
  return true;
}
