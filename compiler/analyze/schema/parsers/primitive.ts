/** string, number, boolean, null, template-literal strings and the `object` keyword; any/unknown/never/symbol/bigint/void are BC1006. */
import { ts } from "../../../ts-morph.ts";
import type { TypeParser } from "../type-parser.ts";

const F = ts.TypeFlags;
const REJECTED: [number, string][] = [
  [F.Any, "'any' has no schema; declare the type"],
  [F.Unknown, "'unknown' has no schema; declare the type"],
  [F.Never, "'never' has no values"],
  [F.ESSymbolLike, "symbols are not JSON"],
  [F.BigIntLike, "bigint is not JSON; use number or string"],
  [F.Void | F.Undefined, "undefined is not JSON (use null, or make the field optional)"],
  [F.TypeParameter, "an uninstantiated type parameter has no schema"],
];

export const primitiveParser: TypeParser = {
  name: "primitive",
  supports: (type) =>
    (type.flags & (F.String | F.Number | F.Boolean | F.Null | F.TemplateLiteral | F.StringMapping | F.NonPrimitive)) !== 0 ||
    REJECTED.some(([flags]) => (type.flags & flags) !== 0),
  parse(type, ctx, at) {
    const f = type.flags;
    if (f & (F.String | F.TemplateLiteral | F.StringMapping)) return { type: "string" };
    if (f & F.Number) return { type: "number" };
    if (f & F.Boolean) return { type: "boolean" };
    if (f & F.Null) return { type: "null" };
    if (f & F.NonPrimitive) return { type: "object" };
    const reason = REJECTED.find(([flags]) => (f & flags) !== 0)?.[1] ?? "unsupported";
    return ctx.unsupported(type, at, reason);
  },
};
