/**
 * Library types with a fixed wire form: Date → date-time string; bytes (Uint8Array, ArrayBuffer, Buffer,
 * Blob, File) → base64 string; other typed arrays → arrays of numbers (BigInt64Array: integers).
 */
import type { ts } from "ts-morph";
import type { JsonSchema } from "../../../../sdk/manifest.ts";
import type { SchemaContext } from "../schema-context.ts";
import type { TypeParser } from "../type-parser.ts";

const FIXED: Record<string, JsonSchema> = {
  Date: { type: "string", format: "date-time" },
  Uint8Array: { type: "string", contentEncoding: "base64" },
  Uint8ClampedArray: { type: "string", contentEncoding: "base64" },
  ArrayBuffer: { type: "string", contentEncoding: "base64" },
  SharedArrayBuffer: { type: "string", contentEncoding: "base64" },
  Buffer: { type: "string", contentEncoding: "base64" },
  Blob: { type: "string", contentEncoding: "base64" },
  File: { type: "string", contentEncoding: "base64" },
  Int8Array: { type: "array", items: { type: "integer" } },
  Int16Array: { type: "array", items: { type: "integer" } },
  Int32Array: { type: "array", items: { type: "integer" } },
  Uint16Array: { type: "array", items: { type: "integer" } },
  Uint32Array: { type: "array", items: { type: "integer" } },
  Float32Array: { type: "array", items: { type: "number" } },
  Float64Array: { type: "array", items: { type: "number" } },
  BigInt64Array: { type: "array", items: { type: "integer" } },
  BigUint64Array: { type: "array", items: { type: "integer" } },
};

function fixedSchema(type: ts.Type, ctx: SchemaContext): JsonSchema | undefined {
  const symbol = type.getSymbol();
  if (!symbol || !Object.hasOwn(FIXED, symbol.getName())) return undefined;
  const decls = symbol.declarations ?? [];
  // lib types, or @types/node's Buffer: declaration files only, never a user's own `interface Date`
  if (!decls.some((d) => ctx.isLibDeclaration(d) || d.getSourceFile().isDeclarationFile)) return undefined;
  return FIXED[symbol.getName()];
}

export const specialParser: TypeParser = {
  name: "special",
  supports: (type, ctx) => fixedSchema(type, ctx) !== undefined,
  parse: (type, ctx) => structuredClone(fixedSchema(type, ctx) ?? {}),
};
