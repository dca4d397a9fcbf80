/**
 * The ONE place that turns any thrown value into an HTTP status, headers and the standard error body
 * `{ error, code, detail?, requestId }` (documented in the OpenAPI, read by the generated client). An
 * `HttpError` (the sdk's, any copy of it, or the runtime's catalogue errors) keeps its status and code;
 * anything else is a 500 `internal` whose message and stack stay in the log.
 */
import { ERROR_CATALOGUE, isErrorCode } from "../../contract/error-catalogue.ts";
import { isHttpError } from "../../sdk/errors.ts";
import { BadRequest, MethodNotAllowed, Unauthorized } from "../errors/http-errors.ts";
import type { HeaderList } from "./transport.ts";

export interface ErrorBody {
  /** Human-readable message. */
  error: string;
  /** Stable machine-readable code, e.g. `invalid_input`. */
  code: string;
  detail?: unknown;
  requestId: string;
}

export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  /** `Allow` for 405, `WWW-Authenticate` for 401, `Retry-After` where the catalogue says when to retry. */
  headers: HeaderList;
  /** True when the service's own code failed (500): log it with the stack, never send the stack. */
  internal: boolean;
}

export function errorAnswer(err: unknown, requestId: string): ErrorAnswer {
  if (!isHttpError(err)) {
    return { status: 500, body: { error: "Internal Server Error", code: "internal", requestId }, headers: [], internal: true };
  }
  const body: ErrorBody = { error: err.message, code: err.code, requestId };
  if (err.detail !== undefined) body.detail = err.detail;
  const headers: HeaderList = [];
  if (err instanceof MethodNotAllowed) headers.push("allow", err.allow.join(", "));
  if (err instanceof Unauthorized) headers.push("www-authenticate", 'Bearer realm="bentoc"');
  if (isErrorCode(err.code)) {
    const entry = ERROR_CATALOGUE[err.code];
    if (entry.status === err.status && "retryAfterS" in entry) headers.push("retry-after", String(entry.retryAfterS));
  }
  return { status: err.status, body, headers, internal: err.status === 500 };
}

/**
 * Decoding reads only the client's bytes, so whatever it throws (a RangeError on absurdly nested JSON,
 * a codec library's own error) is the client's mistake: 400, never 500.
 */
export function asClientError(err: unknown): unknown {
  if (isHttpError(err)) return err;
  return new BadRequest("request body could not be decoded", "malformed_body", [
    { path: "", message: err instanceof RangeError ? "is too large or too deeply nested" : "could not be decoded" },
  ]);
}
