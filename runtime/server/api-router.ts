/**
 * The API server's route table: the service's APIs (from the version being served, so a hot reload
 * swaps them at once), then the admin route when enabled, then the builtins (health, metrics, docs).
 */

import { ADMIN_BATCHING_ROUTE } from "../../contract/server-routes.ts";
import { MethodNotAllowed, NotFound } from "../errors/http-errors.ts";
import type { Router } from "../http/http-server.ts";
import type { Logger } from "../logging/logger.ts";
import { adminBatchingGet, adminBatchingPost } from "./admin-route.ts";
import { type ApiRequestContext, handleApiRequest } from "./api-handler.ts";
import { type BuiltinDeps, builtinRoute } from "./builtin-routes.ts";

export interface ApiRouterDeps extends BuiltinDeps {
  readonly requests: ApiRequestContext;
  /** Serve `/_bentoc/batching` with this bearer token (undefined: no admin route). */
  readonly adminToken: string | undefined;
  readonly logger: Logger;
}

export function createApiRouter(deps: ApiRouterDeps): Router {
  const runners = () => deps.current().runners;
  const token = deps.adminToken;
  const adminGet = token === undefined ? undefined : adminBatchingGet(runners, token);
  const adminPost = token === undefined ? undefined : adminBatchingPost(runners, token, deps.requests.maxBodyBytes, deps.logger);
  return {
    route(method, path) {
      const state = deps.current();
      const byMethod = state.routes.get(path);
      if (byMethod) {
        const route = byMethod.get(method);
        if (route) return (ex, req) => handleApiRequest(deps.requests, state, route, ex, req);
        return new MethodNotAllowed([...byMethod.keys()]);
      }
      if (adminGet && adminPost && path === ADMIN_BATCHING_ROUTE) {
        if (method === "GET") return adminGet;
        if (method === "POST") return adminPost;
        return new MethodNotAllowed(["GET", "POST"]);
      }
      const builtin = builtinRoute(path, deps);
      if (builtin) return method === "GET" ? builtin : new MethodNotAllowed(["GET"]);
      return new NotFound(`no route for ${method} ${path}`);
    },
  };
}
