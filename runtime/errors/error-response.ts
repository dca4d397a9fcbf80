/**
 * The ONE place that turns any thrown value into an HTTP status and the standard error body
 * `{ error, code, detail?, requestId }` (documented in the OpenAPI, read by the generated client).
 */
import { HttpError } from "../../sdk/errors.ts";
import { MethodNotAllowed } from "./http-errors.ts";

export interface ErrorBody {
  /** Human-readable message. */
  error: string;
  /** Stable machine-readable code, e.g. `invalid_input`. */
  code: string;
  detail?: unknown;
  requestId: string;
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  /** Extra response headers (e.g. `Allow` for 405). */
  headers: Record<string, string>;
  /** True when the service's own code failed (500): log it with the stack, never send the stack. */
  internal: boolean;
}

export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  if (err instanceof HttpError && Number.isInteger(err.status) && err.status >= 400 && err.status <= 599) {
    const body: ErrorBody = { error: err.message, code: err.code, requestId };
    if (err.detail !== undefined) body.detail = err.detail;
    const headers: Record<string, string> = {};
    if (err instanceof MethodNotAllowed) headers["allow"] = err.allow.join(", ");
    return { status: err.status, body, headers, internal: err.status === 500 };
  }
  return {
    status: 500,
    body: { error: "Internal Server Error", code: "internal", requestId },
    headers: {},
    internal: true,
  };
}

/** Serialises an error response body. */
export function errorBodyJson(res: ErrorResponse): string {
  return JSON.stringify(res.body);
}
