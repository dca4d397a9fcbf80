/**
 * The JSON Schema of a value travelling through an IO descriptor, and the check that the descriptor fits
 * the TypeScript type (BC1010): text ↔ string, ndarray ↔ NdArray/Tensor, image ↔ Image, file ↔ FileData
 * or bytes, multipart ↔ an object with one property per part; json takes any type with a schema.
 */

import type { DType, IODescriptor } from "../../sdk/io.ts";
import type { JsonSchema } from "../../sdk/manifest.ts";
import { createDiagnostic } from "../diagnostics/diagnostic.ts";
import type { SdkSymbols } from "../discover/sdk-symbols.ts";
import { ts } from "../ts-morph.ts";
import { schemaOf } from "./schema/generate.ts";
import type { SchemaContext } from "./schema/schema-context.ts";

export const DTYPES: readonly DType[] = ["float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "string"];

export function ndarraySchema(d: { dtype?: DType; shape?: readonly (number | null)[] }): JsonSchema {
  const shape: JsonSchema = { type: "array", items: { type: "integer", minimum: 0 } };
  if (d.shape) {
    shape["minItems"] = d.shape.length;
    shape["maxItems"] = d.shape.length;
  }
  return {
    type: "object",
    required: ["data", "shape"],
    properties: { dtype: { enum: d.dtype ? [d.dtype] : [...DTYPES] }, shape, data: { type: "array" } },
  };
}

export interface IoSide {
  /** "input" or "output", for messages. */
  side: "input" | "output";
  type: ts.Type;
  node: ts.Node;
  path: string;
}

const EXPECTED: Record<string, string> = {
  text: "a string",
  ndarray: "an NdArray (or Tensor) from bentoc",
  image: "an Image from bentoc",
  file: "a FileData from bentoc, or a Uint8Array",
  multipart: "an object with one property per part",
};

function typeFits(kind: string, type: ts.Type, sdk: SdkSymbols): boolean {
  const ref = sdk.refOfType(type);
  switch (kind) {
    case "text":
      return (type.flags & ts.TypeFlags.StringLike) !== 0 || (type.isUnion() && type.types.every((t) => t.flags & ts.TypeFlags.StringLike));
    case "ndarray":
      return ref?.module === "types" && ref.name === "NdArray";
    case "image":
      return ref?.module === "types" && ref.name === "Image";
    case "file":
      return (ref?.module === "types" && ref.name === "FileData") || type.getSymbol()?.getName() === "Uint8Array";
    case "multipart":
      return (type.flags & ts.TypeFlags.Object) !== 0;
    default:
      return true;
  }
}

/** The schema of one side of an API, reporting BC1010 when the descriptor does not fit the type. */
export function ioSchema(descriptor: IODescriptor, at: IoSide, ctx: SchemaContext, sdk: SdkSymbols): JsonSchema {
  if (descriptor.kind === "json") return schemaOf(at.type, ctx, at.node, at.path);
  if (!typeFits(descriptor.kind, at.type, sdk)) {
    ctx.diagnostics.push(
      createDiagnostic(
        "BC1010",
        {
          kind: descriptor.kind,
          side: at.side,
          expected: EXPECTED[descriptor.kind] ?? descriptor.kind,
          where: at.side === "input" ? "parameter" : "return",
          type: ctx.checker.typeToString(at.type),
        },
        at.node,
      ),
    );
    return {};
  }
  switch (descriptor.kind) {
    case "text":
      return { type: "string" };
    case "ndarray":
      return ndarraySchema(descriptor);
    case "image":
      return { type: "string", contentMediaType: "image/*" };
    case "file":
      return { type: "string", contentMediaType: descriptor.contentType ?? "application/octet-stream" };
    case "multipart": {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const [part, partDescriptor] of Object.entries(descriptor.parts)) {
        const prop = ctx.checker.getPropertyOfType(at.type, part);
        if (!prop) {
          ctx.diagnostics.push(
            createDiagnostic(
              "BC1010",
              {
                kind: "multipart",
                side: at.side,
                expected: `a property '${part}'`,
                where: at.side === "input" ? "parameter" : "return",
                type: ctx.checker.typeToString(at.type),
              },
              at.node,
            ),
          );
          continue;
        }
        const partType = ctx.checker.getNonNullableType(ctx.checker.getTypeOfSymbol(prop));
        properties[part] = ioSchema(partDescriptor, { ...at, type: partType, path: `${at.path}.${part}` }, ctx, sdk);
        if (!(prop.flags & ts.SymbolFlags.Optional)) required.push(part);
      }
      const out: JsonSchema = { type: "object", properties };
      if (required.length) out["required"] = required;
      return out;
    }
  }
}
