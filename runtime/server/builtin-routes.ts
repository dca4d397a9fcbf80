/**
 * The API server's own routes (contract/server-routes.ts): `/livez`, `/readyz`, `/metrics`, `/docs`
 * (Swagger UI, offline), its assets under `/docs/`, and `/docs.json` (the OpenAPI document). GET and HEAD only.
 */
import { DOCS_ASSET_PREFIX, SERVER_ROUTES } from "../../contract/server-routes.ts";
import { NotFound, ServiceUnavailable } from "../errors/http-errors.ts";
import type { RouteHandler } from "../http/http-server.ts";
import type { MetricsSource } from "../observability/telemetry.ts";
import { docsAsset, docsPage } from "./docs-assets.ts";
import type { ServiceState } from "./service-state.ts";

const JSON_TYPE = "application/json";

export interface BuiltinDeps {
  current(): ServiceState;
  readonly draining: boolean;
  readonly metrics: MetricsSource;
}

/** The handler of a builtin GET route, or undefined when `path` is none. */
export function builtinRoute(path: string, deps: BuiltinDeps): RouteHandler | undefined {
  switch (path) {
    case SERVER_ROUTES.live:
      return (ex) => ex.send(200, JSON_TYPE, '{"status":"ok"}');
    case SERVER_ROUTES.ready:
      return (ex) => {
        const state = deps.current();
        const runners = state.runners.status();
        if (state.runners.ready && !deps.draining) return ex.json(200, { status: "ready", runners });
        if (deps.draining) return ex.fail(new ServiceUnavailable("shutting down", "shutting_down", { runners }));
        ex.fail(new ServiceUnavailable("runners are not ready", "not_ready", { runners }));
      };
    case SERVER_ROUTES.metrics:
      return (ex) =>
        void deps.metrics.metricsText().then(
          (text) => ex.send(200, deps.metrics.contentType, text),
          (err: unknown) => ex.fail(err),
        );
    case SERVER_ROUTES.docs:
      return (ex) => ex.send(200, "text/html; charset=utf-8", docsPage(deps.current().manifest.service.name));
    case SERVER_ROUTES.openapi:
      return (ex) => ex.send(200, JSON_TYPE, deps.current().openapi);
  }
  if (!path.startsWith(DOCS_ASSET_PREFIX)) return undefined;
  return (ex) => {
    const asset = docsAsset(path.slice(DOCS_ASSET_PREFIX.length));
    if (!asset) return ex.fail(new NotFound(`no route ${path}`));
    ex.send(200, asset.contentType, asset.body, ["cache-control", "public, max-age=3600"]);
  };
}
