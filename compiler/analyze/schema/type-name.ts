/**
 * Which types become `$defs` entries, and under what name: user-declared interfaces, classes, enums and
 * type aliases (not TypeScript's lib types such as Record or Partial). Generic instantiations get a
 * deterministic name from their type arguments: `Page<Ticket>` → `Page_Ticket`.
 */
import { ts } from "../../ts-morph.ts";
import type { SchemaContext } from "./schema-context.ts";

function isNamedSymbol(symbol: ts.Symbol | undefined, ctx: SchemaContext): symbol is ts.Symbol {
  if (!symbol || ctx.isLibSymbol(symbol)) return false;
  const name = symbol.getName();
  return name !== "__type" && name !== "__object" && !name.startsWith("__");
}

function typeArguments(type: ts.Type, ctx: SchemaContext): readonly ts.Type[] {
  if (type.aliasSymbol) return type.aliasTypeArguments ?? [];
  if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
    const ref = type as ts.TypeReference;
    const declared = (ref.target as ts.InterfaceType).typeParameters?.length ?? 0;
    return ctx.checker.getTypeArguments(ref).slice(0, declared);
  }
  return [];
}

/** A name part for a type argument: its def name, a primitive's keyword, `Array_X`, a literal's value. */
function argumentName(type: ts.Type, ctx: SchemaContext): string {
  const named = typeName(type, ctx);
  if (named !== undefined) return named;
  if (ctx.checker.isArrayType(type)) return `Array_${argumentName(ctx.checker.getTypeArguments(type as ts.TypeReference)[0] ?? type, ctx)}`;
  if (type.isStringLiteral() || type.isNumberLiteral()) return String(type.value).replace(/[^A-Za-z0-9_]/g, "_");
  if (type.isUnion()) return type.types.map((t) => argumentName(t, ctx)).join("_or_");
  const text = ctx.checker.typeToString(type);
  return /^[A-Za-z0-9_]+$/.test(text) ? text : "object";
}

/** The `$defs` name of a type, or undefined when the type is inlined. */
export function typeName(type: ts.Type, ctx: SchemaContext): string | undefined {
  let base: string | undefined;
  if (isNamedSymbol(type.aliasSymbol, ctx)) base = type.aliasSymbol.getName();
  else if (!type.aliasSymbol || ctx.isLibSymbol(type.aliasSymbol)) {
    const symbol = type.getSymbol();
    const flags = ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.Enum;
    const isNamedKind = !!symbol && (symbol.flags & flags) !== 0 && !(type.flags & ts.TypeFlags.EnumLiteral && !(type.flags & ts.TypeFlags.Union));
    if (isNamedKind && isNamedSymbol(symbol, ctx) && (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Union | ts.TypeFlags.EnumLike)) !== 0)
      base = symbol.getName();
  }
  if (base === undefined) return undefined;
  const args = typeArguments(type, ctx);
  return args.length ? [base, ...args.map((a) => argumentName(a, ctx))].join("_") : base;
}
