/**
 * Object types: interfaces, classes, anonymous and mapped types (`Record<"a" | "b", T>`), intersections.
 * Properties in declaration order; optional (or `| undefined`) ones are left out of `required`; index
 * signatures (`Record<string, T>`) become `additionalProperties`, otherwise `additionalProperties: false`.
 * Functions, methods and symbol keys are BC1006: they do not survive JSON.
 */

import type { JsonSchema } from "../../../../sdk/manifest.ts";
import { ts } from "../../../ts-morph.ts";
import { annotations, wantsInteger } from "../jsdoc.ts";
import type { SchemaContext, SchemaLocation } from "../schema-context.ts";
import type { TypeParser } from "../type-parser.ts";
import { unionSchema, withoutUndefined } from "./union.ts";

/** The node to point at for a property: its type annotation in the user's own code, else the parent's. */
function propertyNode(prop: ts.Symbol, at: SchemaLocation): ts.Node {
  const decl = prop.valueDeclaration ?? prop.declarations?.[0];
  if (!decl) return at.node;
  const sf = decl.getSourceFile();
  if (sf.isDeclarationFile || sf.fileName.includes("/node_modules/")) return at.node;
  const typeNode = (decl as ts.PropertySignature).type;
  return typeNode ?? decl;
}

/** A value's schema with `undefined` members dropped; tells whether it may be absent. */
export function valueSchema(type: ts.Type, ctx: SchemaContext, at: SchemaLocation): { schema: JsonSchema; optional: boolean } {
  if (!type.isUnion()) return { schema: ctx.toSchema(type, at), optional: false };
  const { type: members, hadUndefined } = withoutUndefined(type);
  if (!hadUndefined) return { schema: ctx.toSchema(type, at), optional: false };
  if (members.length === 0) return { schema: ctx.unsupported(type, at, "undefined is not JSON"), optional: true };
  return { schema: members.length === 1 && members[0] ? ctx.toSchema(members[0], at) : unionSchema(members, ctx, at), optional: true };
}

export const objectParser: TypeParser = {
  name: "object",
  supports: (type) => (type.flags & ts.TypeFlags.Object) !== 0 || type.isIntersection(),
  parse(type, ctx, at) {
    const { checker } = ctx;
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Call).length) return ctx.unsupported(type, at, "functions are not JSON");
    if (checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length) return ctx.unsupported(type, at, "classes are not JSON");
    const props = checker.getPropertiesOfType(type);
    const method = props.find((p) => p.flags & ts.SymbolFlags.Method);
    if (method) {
      const isClass = ((type.getSymbol()?.flags ?? 0) & ts.SymbolFlags.Class) !== 0;
      const what = isClass ? "a class instance with methods" : "an object with methods";
      return ctx.unsupported(type, at, `${what} (method '${method.getName()}') does not survive JSON; use a plain interface`);
    }
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const prop of props) {
      const name = prop.getName();
      const propAt = { node: propertyNode(prop, at), path: `${at.path}.${name}` };
      if (name.startsWith("__@")) {
        ctx.unsupported(type, propAt, "symbol-keyed properties are not JSON");
        continue;
      }
      const { schema, optional } = valueSchema(checker.getTypeOfSymbol(prop), ctx, propAt);
      const merged = { ...schema, ...annotations(prop, checker) };
      if (merged["type"] === "number" && wantsInteger(prop, checker)) merged["type"] = "integer";
      properties[name] = merged;
      if (!optional && !(prop.flags & ts.SymbolFlags.Optional)) required.push(name);
    }
    const out: JsonSchema = { type: "object" };
    if (props.length) out["properties"] = properties;
    if (required.length) out["required"] = required;
    const index = checker.getIndexInfosOfType(type).find((i) => i.keyType.flags & (ts.TypeFlags.String | ts.TypeFlags.Number | ts.TypeFlags.TemplateLiteral));
    out["additionalProperties"] = index ? valueSchema(index.type, ctx, { node: at.node, path: `${at.path}[key]` }).schema : false;
    return out;
  },
};
