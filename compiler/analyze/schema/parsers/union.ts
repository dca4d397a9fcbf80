/**
 * Unions and enums: `undefined` members are dropped (the owner marks the field optional), `true | false`
 * becomes boolean, all-literal unions (and enums) become `enum`, unions of plain primitives a `type` list,
 * anything else `anyOf` (duplicates removed).
 */

import type { JsonSchema } from "../../../../sdk/manifest.ts";
import { ts } from "../../../ts-morph.ts";
import type { SchemaContext, SchemaLocation } from "../schema-context.ts";
import type { TypeParser } from "../type-parser.ts";
import { jsonTypeOf, literalValue } from "./literal.ts";

const F = ts.TypeFlags;

export function withoutUndefined(type: ts.Type): { type: ts.Type[]; hadUndefined: boolean } {
  if (!type.isUnion()) return { type: [type], hadUndefined: (type.flags & (F.Undefined | F.Void)) !== 0 };
  const kept = type.types.filter((t) => !(t.flags & (F.Undefined | F.Void)));
  return { type: kept, hadUndefined: kept.length !== type.types.length };
}

function isPlainPrimitive(s: JsonSchema): boolean {
  return Object.keys(s).length === 1 && typeof s["type"] === "string";
}

export function unionSchema(members: readonly ts.Type[], ctx: SchemaContext, at: SchemaLocation): JsonSchema {
  const hasTrue = members.some((t) => t.flags & F.BooleanLiteral && literalValue(t) === true);
  const hasFalse = members.some((t) => t.flags & F.BooleanLiteral && literalValue(t) === false);
  const isBool = hasTrue && hasFalse;
  // null last, as people write it (`T | null`); TypeScript orders it first
  const rest = members.filter((t) => !(isBool && t.flags & F.BooleanLiteral)).sort((a, b) => (a.flags & F.Null ? 1 : 0) - (b.flags & F.Null ? 1 : 0));
  const literals = rest.filter((t) => literalValue(t) !== undefined || t.flags & F.Null);
  if (!isBool && literals.length === rest.length && rest.length > 0) {
    const values = rest.map((t) => (t.flags & F.Null ? null : (literalValue(t) ?? null)));
    const types = [...new Set(values.map(jsonTypeOf))];
    return { type: types.length === 1 ? types[0] : types, enum: values };
  }
  const parts: JsonSchema[] = [];
  if (isBool) parts.push({ type: "boolean" });
  for (const t of rest) parts.push(ctx.toSchema(t, at));
  const seen = new Set<string>();
  const unique = parts.filter((p) => {
    const key = JSON.stringify(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (unique.length === 1) return unique[0] ?? {};
  if (unique.every(isPlainPrimitive)) return { type: unique.map((p) => p["type"]) };
  return { anyOf: unique };
}

export const unionParser: TypeParser = {
  name: "union",
  supports: (type) => type.isUnion(),
  parse(type, ctx, at) {
    const { type: members } = withoutUndefined(type);
    if (members.length === 0) return ctx.unsupported(type, at, "undefined is not JSON");
    return unionSchema(members, ctx, at);
  },
};
