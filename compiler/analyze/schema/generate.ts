/**
 * Entry points of the schema stage: the schema of a parameter, of a return value (`Promise<T>` unwrapped,
 * `void` → `{ "type": "null" }`), or of the element of an array (batchable runner items).
 */
import { ts } from "../../ts-morph.ts";
import type { JsonSchema } from "../../../sdk/manifest.ts";
import { valueSchema } from "./parsers/object.ts";
import type { SchemaContext } from "./schema-context.ts";

export function unwrapPromise(type: ts.Type, checker: ts.TypeChecker): ts.Type {
  return checker.getAwaitedType(type) ?? type;
}

export function isVoidLike(type: ts.Type): boolean {
  return (type.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
}

export function schemaOf(type: ts.Type, ctx: SchemaContext, node: ts.Node, path: string): JsonSchema {
  if (isVoidLike(type)) return { type: "null" };
  return valueSchema(type, ctx, { node, path }).schema;
}

/** The element type of an array (or readonly array), or undefined when the type is not one. */
export function arrayElement(type: ts.Type, checker: ts.TypeChecker): ts.Type | undefined {
  if (!checker.isArrayType(type)) return undefined;
  return checker.getTypeArguments(type as ts.TypeReference)[0];
}
