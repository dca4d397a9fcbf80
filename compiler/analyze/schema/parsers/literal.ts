/** Literal types: `"a"`, `42`, `true` → `{ type, const }`. Enum members are literals too. */

import type { JsonSchema } from "../../../../sdk/manifest.ts";
import { ts } from "../../../ts-morph.ts";
import type { TypeParser } from "../type-parser.ts";

export function literalValue(type: ts.Type): string | number | boolean | undefined {
  if (type.isStringLiteral() || type.isNumberLiteral()) return type.value;
  if (type.flags & ts.TypeFlags.BooleanLiteral) return (type as { intrinsicName?: string }).intrinsicName === "true";
  return undefined;
}

export function jsonTypeOf(value: string | number | boolean | null): string {
  return value === null ? "null" : typeof value === "string" ? "string" : typeof value === "number" ? "number" : "boolean";
}

export const literalParser: TypeParser = {
  name: "literal",
  supports: (type) => (type.flags & (ts.TypeFlags.StringLiteral | ts.TypeFlags.NumberLiteral | ts.TypeFlags.BooleanLiteral)) !== 0,
  parse(type): JsonSchema {
    const value = literalValue(type) ?? null;
    return { type: jsonTypeOf(value), const: value };
  },
};
