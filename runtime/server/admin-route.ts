/**
 * `GET|POST /_bentoc/batching` (only with `server.admin`, `bentoc serve --admin`): read or change the
 * batching settings of this process's runners at run time. `bentoc bench` drives it.
 *
 * It is guarded: every request needs `Authorization: Bearer <server.admin_token>` (401 without), a request
 * from a browser (any `Origin` header) is refused (403) so that a web page cannot drive it, and a POST must
 * be `application/json` (415), which a page cannot send cross-origin without a preflight.
 */
import { timingSafeEqual } from "node:crypto";
import { BadRequest, Forbidden, Unauthorized, UnsupportedMediaType } from "../errors/http-errors.ts";
import { readBody } from "../http/body-reader.ts";
import type { RouteHandler } from "../http/http-server.ts";
import type { TransportRequest } from "../http/transport.ts";
import { isJsonType, parseContentType } from "../io/content-type.ts";
import type { Logger } from "../logging/logger.ts";
import type { BatchingAdmin, BatchingChange } from "../runners/runner-host.ts";
import { parseBatchingChange } from "./batching-change.ts";

/** Why a request may not use the admin route, or undefined when it may. */
function refusal(req: TransportRequest, token: string): Error | undefined {
  if (req.header("origin") !== "") return new Forbidden("the admin route answers no browser: requests with an Origin header are refused");
  const given = Buffer.from(req.header("authorization"));
  const expected = Buffer.from(`Bearer ${token}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return new Unauthorized();
  return undefined;
}

export function adminBatchingGet(admin: () => BatchingAdmin, token: string): RouteHandler {
  return (ex, req) => {
    const refused = refusal(req, token);
    if (refused) return ex.fail(refused);
    ex.json(200, { batching: admin().batching() });
  };
}

export function adminBatchingPost(admin: () => BatchingAdmin, token: string, maxBodyBytes: number, logger: Logger): RouteHandler {
  return (ex, req) => {
    const refused = refusal(req, token);
    if (refused) return ex.fail(refused, true);
    const ct = parseContentType(req.header("content-type") || undefined);
    if (!ct || !isJsonType(ct.type)) return ex.fail(new UnsupportedMediaType(ct?.type, ["application/json"]), true);
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
  };
}
