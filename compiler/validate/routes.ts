/** BC1004 duplicate route (same path and method), BC1009 malformed route, BC1017 routes the server owns. */

import { isReservedRoute, ROUTE_PATTERN, reservedRoutesText } from "../../contract/server-routes.ts";
import { optionNode } from "../analyze/analyzed.ts";
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import type { Rule } from "./rules.ts";

export const routes: Rule = ({ analysis }) => {
  if (!analysis) return [];
  const out: Diagnostic[] = [];
  const seen = new Map<string, string>();
  for (const api of analysis.service.apis) {
    const { route, method, name } = api.manifest;
    const node = optionNode(api.options, "route", api.decl.getNameNode());
    if (!ROUTE_PATTERN.test(route)) {
      out.push(
        createDiagnostic(
          "BC1009",
          { kind: "route", name: route, rule: "a route is '/' followed by segments of letters, digits, '-', '_', '.', '~' (e.g. '/classify-text')" },
          node,
        ),
      );
      continue;
    }
    if (isReservedRoute(route)) {
      out.push(createDiagnostic("BC1017", { route, reserved: reservedRoutesText() }, node));
      continue;
    }
    const key = `${method} ${route}`;
    const other = seen.get(key);
    if (other !== undefined) out.push(createDiagnostic("BC1004", { method, route, other }, node));
    else seen.set(key, name);
  }
  return out;
};
