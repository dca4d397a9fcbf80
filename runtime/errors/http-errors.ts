/**
 * The error catalogue: one class per status the server answers with on its own. All extend the sdk's
 * `HttpError`, so a handler may throw them too, and `toErrorResponse` maps every one the same way.
 * Runners throw `ServiceUnavailable` when their queue is full or a deadline cannot be met.
 */
import { HttpError } from "../../sdk/errors.ts";

/** One field-level problem in a request: a JSON Pointer to the field (`/items/0/name`; `""` is the whole body) and why. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** 400: the body could not be parsed (`malformed_body`) or does not match the schema (`invalid_input`). */
export class BadRequest extends HttpError {
  override name = "BadRequest";
  constructor(message: string, code: "invalid_input" | "malformed_body" = "invalid_input", detail?: FieldProblem[]) {
    super(400, code, message, detail);
  }
}

export class NotFound extends HttpError {
  override name = "NotFound";
  constructor(message = "Not Found", detail?: unknown) {
    super(404, "not_found", message, detail);
  }
}

/** 405: the route exists with other methods; `allow` becomes the `Allow` header. */
export class MethodNotAllowed extends HttpError {
  override name = "MethodNotAllowed";
  constructor(readonly allow: readonly string[], message = "Method Not Allowed") {
    super(405, "method_not_allowed", message, { allow: [...allow] });
  }
}

/** 408: the client did not send its whole body within the request timeout (its fault, not ours). */
export class RequestTimeout extends HttpError {
  override name = "RequestTimeout";
  constructor(timeoutMs: number) {
    super(408, "request_timeout", `request body was not received within ${timeoutMs} ms`, { timeoutMs });
  }
}

export class PayloadTooLarge extends HttpError {
  override name = "PayloadTooLarge";
  constructor(readonly limitBytes: number) {
    super(413, "payload_too_large", `request body exceeds ${limitBytes} bytes`, { limitBytes });
  }
}

export class UnsupportedMediaType extends HttpError {
  override name = "UnsupportedMediaType";
  constructor(got: string | undefined, expected: readonly string[]) {
    super(415, "unsupported_media_type", `content type ${got ? `'${got}'` : "(none)"} is not accepted here; expected ${expected.join(" or ")}`, {
      contentType: got ?? null,
      accepted: [...expected],
    });
  }
}

export class TooManyRequests extends HttpError {
  override name = "TooManyRequests";
  constructor(message = "too many requests in flight", detail?: unknown) {
    super(429, "too_many_requests", message, detail);
  }
}

/** 500: the service's own code failed. The body never carries the original message or stack. */
export class Internal extends HttpError {
  override name = "Internal";
  constructor(message = "Internal Server Error") {
    super(500, "internal", message);
  }
}

/**
 * 503: not ready (runners still loading), shutting down, or overloaded (a runner queue is full or a
 * deadline cannot be met). `code` tells which: `not_ready`, `shutting_down`, `overloaded`.
 */
export class ServiceUnavailable extends HttpError {
  override name = "ServiceUnavailable";
  constructor(message = "Service Unavailable", code: "not_ready" | "shutting_down" | "overloaded" = "overloaded", detail?: unknown) {
    super(503, code, message, detail);
  }
}

export class GatewayTimeout extends HttpError {
  override name = "GatewayTimeout";
  constructor(timeoutMs: number) {
    super(504, "timeout", `request did not complete within ${timeoutMs} ms`, { timeoutMs });
  }
}
