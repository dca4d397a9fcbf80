/** BC1004 duplicate route (same path and method), BC1009 malformed route, BC1017 routes the server owns. */
import { createDiagnostic, type Diagnostic } from "../diagnostics/diagnostic.ts";
import { optionNode } from "../analyze/analyzed.ts";
import type { Rule } from "./rules.ts";

export const RESERVED_ROUTES = ["/livez", "/readyz", "/metrics", "/docs", "/docs.json"] as const;
export const ROUTE_PATTERN = /^(\/[A-Za-z0-9._~-]+)+$/;

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
    if ((RESERVED_ROUTES as readonly string[]).includes(route) || route.startsWith("/v2/")) {
      out.push(createDiagnostic("BC1017", { route, reserved: [...RESERVED_ROUTES, "/v2/*"].join(", ") }, node));
      continue;
    }
    const key = `${method} ${route}`;
    const other = seen.get(key);
    if (other !== undefined) out.push(createDiagnostic("BC1004", { method, route, other }, node));
    else seen.set(key, name);
  }
  return out;
};
