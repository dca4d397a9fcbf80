/**
 * The reserved routes are the routes the servers really answer: each one the API server's router (with the
 * admin route on) or the runner server answers itself is reserved, and a route beside them is not.
 */
import { describe, expect, it } from "vitest";
import { ADMIN_BATCHING_ROUTE, isReservedRoute, ROUTE_PATTERN, reservedRoutesText, SERVER_ROUTES, V2_ROUTES } from "../../../contract/server-routes.ts";
import { type BuiltinDeps, builtinRoute } from "../../../runtime/server/builtin-routes.ts";

const deps = {} as BuiltinDeps; // never called: only whether a handler exists is looked at

describe("reserved routes", () => {
  it("reserves every builtin route of the API server, its docs assets, the admin and the V2 routes", () => {
    for (const path of Object.values(SERVER_ROUTES)) {
      expect(builtinRoute(path, deps), path).toBeDefined();
      expect(isReservedRoute(path), path).toBe(true);
    }
    expect(builtinRoute("/docs/swagger-ui.css", deps)).toBeDefined();
    for (const path of ["/docs/swagger-ui.css", "/docs/anything", ADMIN_BATCHING_ROUTE, "/_bentoc/other", ...Object.values(V2_ROUTES), "/v2/models/m/infer"]) {
      expect(isReservedRoute(path), path).toBe(true);
    }
  });

  it("leaves routes that merely look alike to the service", () => {
    for (const path of ["/livez2", "/metrics-summary", "/docs.yaml", "/documents", "/v2beta", "/bentoc/batching", "/api/livez"]) {
      expect(ROUTE_PATTERN.test(path), path).toBe(true);
      expect(isReservedRoute(path), path).toBe(false);
      expect(builtinRoute(path, deps), path).toBeUndefined();
    }
  });

  it("lists them for BC1017", () => {
    expect(reservedRoutesText()).toBe("/livez, /readyz, /metrics, /docs, /docs.json, /v2, /docs/*, /_bentoc/*, /v2/*");
  });
});
