/** Arrays (incl. readonly) → `items`; tuples → `prefixItems` with min/max items (rest elements → `items`). */

import type { JsonSchema } from "../../../../sdk/manifest.ts";
import { ts } from "../../../ts-morph.ts";
import type { TypeParser } from "../type-parser.ts";

export const arrayParser: TypeParser = {
  name: "array",
  supports: (type, ctx) => ctx.checker.isArrayType(type),
  parse(type, ctx, at) {
    const [element] = ctx.checker.getTypeArguments(type as ts.TypeReference);
    return { type: "array", items: element ? ctx.toSchema(element, { node: elementNode(at.node), path: `${at.path}[]` }) : {} };
  },
};

/** The element's type node of `T[]`, `readonly T[]` or `Array<T>` (for its alias's JSDoc); else the array's own node. */
function elementNode(node: ts.Node): ts.Node {
  let n = node;
  while (ts.isParenthesizedTypeNode(n) || (ts.isTypeOperatorNode(n) && n.operator === ts.SyntaxKind.ReadonlyKeyword)) n = n.type;
  if (ts.isArrayTypeNode(n)) return n.elementType;
  if (ts.isTypeReferenceNode(n) && n.typeArguments?.length === 1 && /^(Readonly)?Array$/.test(n.typeName.getText())) return n.typeArguments[0]!;
  return node;
}

export const tupleParser: TypeParser = {
  name: "tuple",
  supports: (type, ctx) => ctx.checker.isTupleType(type),
  parse(type, ctx, at) {
    const ref = type as ts.TypeReference;
    const target = ref.target as ts.TupleType;
    const elements = ctx.checker.getTypeArguments(ref);
    const prefixItems: JsonSchema[] = [];
    let minItems = 0;
    let rest: JsonSchema | undefined;
    elements.forEach((el, i) => {
      const flags = target.elementFlags[i] ?? ts.ElementFlags.Required;
      const schema = ctx.toSchema(el, { node: at.node, path: `${at.path}[${i}]` });
      if (flags & ts.ElementFlags.Variable) rest = schema;
      else {
        prefixItems.push(schema);
        if (flags & ts.ElementFlags.Required) minItems = prefixItems.length;
      }
    });
    const out: JsonSchema = { type: "array" };
    if (prefixItems.length) out["prefixItems"] = prefixItems;
    out["minItems"] = minItems;
    if (rest) out["items"] = rest;
    else {
      out["maxItems"] = prefixItems.length;
      out["items"] = false;
    }
    return out;
  },
};
