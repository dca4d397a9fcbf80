/**
 * Facts about an API's wire format that the OpenAPI and client emitters must agree on: whether it takes
 * an input at all, how that input travels (body, query string or nothing), which media types an IO
 * descriptor uses, and the JSON form of an NdArray.
 */
import type { DType, IODescriptor } from "../../../sdk/io.ts";
import type { ApiManifest, JsonSchema } from "../../../sdk/manifest.ts";

export const DTYPES: readonly DType[] = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"];

/** Headers that describe a binary (`application/octet-stream`) NdArray body. */
export const NDARRAY_DTYPE_HEADER = "x-dtype";
export const NDARRAY_SHAPE_HEADER = "x-shape";

/**
 * How the input of an API travels:
 * - `none`: the handler takes no input (schema `{ "type": "null" }` or absent, or a GET without fields);
 * - `query`: a GET whose input object's fields are sent as query parameters;
 * - `body`: everything else, encoded per the IO descriptor.
 */
export type InputTransport = "none" | "query" | "body";

export function inputTransport(api: ApiManifest): InputTransport {
  const schema = api.input.schema;
  const empty = isNullSchema(schema);
  if (api.method === "GET") {
    if (empty || api.input.descriptor.kind !== "json") return "none";
    return Object.keys(objectProperties(schema)).length > 0 ? "query" : "none";
  }
  return empty ? "none" : "body";
}

/** True for a schema that admits only `null` (or nothing): how the compiler marks "no parameter". */
export function isNullSchema(schema: JsonSchema | undefined): boolean {
  if (schema === undefined) return true;
  const keys = Object.keys(schema);
  if (keys.length === 0) return false; // `{}` is "anything", a real (if untyped) input
  return (schema["type"] === "null" || schema["const"] === null) && !("anyOf" in schema) && !("oneOf" in schema);
}

export function objectProperties(schema: JsonSchema): Record<string, JsonSchema> {
  const props = schema["properties"];
  return props !== null && typeof props === "object" ? (props as Record<string, JsonSchema>) : {};
}

export function requiredFields(schema: JsonSchema): string[] {
  const req = schema["required"];
  return Array.isArray(req) ? req.filter((r): r is string => typeof r === "string") : [];
}

/** The media types of a body carrying `descriptor`, primary first (the client sends the primary one). */
export function mediaTypes(descriptor: IODescriptor): string[] {
  switch (descriptor.kind) {
    case "json":
      return ["application/json"];
    case "text":
      return ["text/plain"];
    case "ndarray":
      return ["application/json", "application/octet-stream"];
    case "image":
      return imageFormats(descriptor).map((f) => `image/${f}`);
    case "file":
      return [descriptor.contentType ?? "application/octet-stream"];
    case "multipart":
      return ["multipart/form-data"];
  }
}

export function imageFormats(descriptor: Extract<IODescriptor, { kind: "image" }>): ("png" | "jpeg")[] {
  const formats = descriptor.formats && descriptor.formats.length > 0 ? descriptor.formats : ["png", "jpeg"];
  return [...new Set(formats)].sort() as ("png" | "jpeg")[];
}

/** JSON Schema of one element of an NdArray's flat `data` for a dtype (any dtype when undefined). */
export function dtypeItemSchema(dtype: DType | undefined): JsonSchema {
  switch (dtype) {
    case undefined:
      return { type: ["number", "boolean", "string"] };
    case "bool":
      return { type: "boolean" };
    case "string":
      return { type: "string" };
    case "float32":
    case "float64":
      return { type: "number" };
    default:
      return { type: "integer" };
  }
}

/**
 * JSON form of an NdArray: `{ dtype, shape, data }` with `data` flat and row-major. When the descriptor
 * fixes the dtype, `dtype` may be left out (the server assumes it), as in the compiler's schema.
 */
export function ndarrayJsonSchema(descriptor: Extract<IODescriptor, { kind: "ndarray" }>): JsonSchema {
  const dim: JsonSchema = { type: "integer", minimum: 0 };
  const shape: JsonSchema = descriptor.shape
    ? {
        type: "array",
        prefixItems: descriptor.shape.map((d) => (d === null || d < 0 ? dim : { const: d })),
        items: false,
        minItems: descriptor.shape.length,
        maxItems: descriptor.shape.length,
      }
    : { type: "array", items: dim };
  return {
    type: "object",
    description: "An n-dimensional array: `data` holds the elements flat, in row-major order.",
    properties: {
      dtype: descriptor.dtype ? { const: descriptor.dtype } : { type: "string", enum: [...DTYPES] },
      shape,
      data: { type: "array", items: dtypeItemSchema(descriptor.dtype) },
    },
    required: descriptor.dtype ? ["shape", "data"] : ["dtype", "shape", "data"],
    additionalProperties: false,
  };
}
