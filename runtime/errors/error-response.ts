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

/**
 * True for the sdk's `HttpError` — also a copy of it bundled into a service's `service.mjs`, which is a
 * different class object, so this checks the shape (`status` 400–599, string `code`), not the identity.
 */
export function isHttpError(err: unknown): err is HttpError {
  if (err instanceof HttpError) return Number.isInteger(err.status) && err.status >= 400 && err.status <= 599;
  if (!(err instanceof Error)) return false;
  const e = err as Error & { status?: unknown; code?: unknown };
  return typeof e.status === "number" && Number.isInteger(e.status) && e.status >= 400 && e.status <= 599 && typeof e.code === "string";
}

export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  if (isHttpError(err)) {
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
