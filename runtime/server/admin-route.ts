/**
 * `GET|POST /_bentoc/batching` (only with `server.admin`, `bentoc serve --admin`): read or change the
 * batching settings of this process's runners at run time. `bentoc bench` drives it.
 */
import { BadRequest } from "../errors/http-errors.ts";
import { readBody } from "../http/body-reader.ts";
import type { RouteHandler } from "../http/http-server.ts";
import type { Logger } from "../logging/logger.ts";
import type { BatchingAdmin, BatchingChange } from "../runners/runner-host.ts";
import { parseBatchingChange } from "./batching-change.ts";

export const ADMIN_BATCHING_ROUTE = "/_bentoc/batching";

export function adminBatchingGet(admin: () => BatchingAdmin): RouteHandler {
  return (ex) => ex.json(200, { batching: admin().batching() });
}

export function adminBatchingPost(admin: () => BatchingAdmin, maxBodyBytes: number, logger: Logger): RouteHandler {
  return (ex) =>
    readBody(ex, maxBodyBytes, false, (body) => {
      let change: BatchingChange;
      try {
        change = parseBatchingChange(body);
      } catch (err) {
        return ex.fail(err);
      }
      let batching: unknown[];
      try {
        batching = admin().reconfigureBatching(change);
      } catch (err) {
        const message = (err as Error).message;
        return ex.fail(new BadRequest(message, "invalid_input", [{ path: "/runner", message }]));
      }
      logger.info("batching reconfigured", { change, batching });
      ex.json(200, { batching });
    });
}
