/**
 * Entry points of the schema stage: the schema of a parameter, of a return value (`Promise<T>` unwrapped,
 * `void` → `{ "type": "null" }`), or of the element of an array (batchable runner items).
 */

import type { JsonSchema } from "../../../sdk/manifest.ts";
import { ts } from "../../ts-morph.ts";
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

const ASYNC_ITERABLES = new Set(["AsyncIterable", "AsyncIterableIterator", "AsyncGenerator"]);
const SYNC_ITERABLES = new Set(["Iterable", "IterableIterator", "Generator"]);

export type StreamShape = { kind: "none" } | { kind: "async"; item: ts.Type } | { kind: "unsupported"; problem: string };

/**
 * Whether an API's (awaited) return type is a stream: `AsyncIterable<T>`, `AsyncIterableIterator<T>` or
 * `AsyncGenerator<T, …>` of the standard library give T; a synchronous generator or iterable and a
 * `ReadableStream` are refused with what to write instead.
 */
export function streamShape(type: ts.Type, checker: ts.TypeChecker): StreamShape {
  const symbol = type.getSymbol();
  const name = symbol?.getName();
  if (!name || !symbol?.getDeclarations()?.some((d) => d.getSourceFile().hasNoDefaultLib || /[\\/]typescript[\\/]lib[\\/]/.test(d.getSourceFile().fileName))) {
    return { kind: "none" };
  }
  if (ASYNC_ITERABLES.has(name)) {
    const item = checker.getTypeArguments(type as ts.TypeReference)[0];
    return item ? { kind: "async", item } : { kind: "unsupported", problem: `returns '${checker.typeToString(type)}' without an item type` };
  }
  if (SYNC_ITERABLES.has(name)) {
    return {
      kind: "unsupported",
      problem: `returns a synchronous '${checker.typeToString(type)}': declare the method 'async *' (AsyncGenerator<T>) or return an AsyncIterable<T>`,
    };
  }
  if (name === "ReadableStream") {
    return {
      kind: "unsupported",
      problem: `returns a ReadableStream: return an AsyncIterable<T> (e.g. an 'async *' method yielding JSON items) and the server frames it`,
    };
  }
  return { kind: "none" };
}
