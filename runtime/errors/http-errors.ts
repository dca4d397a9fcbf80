/**
 * The runtime's errors, one class per catalogue family. Each carries a code of the error catalogue
 * (contract/error-catalogue.ts), which fixes its status; all extend the sdk's `HttpError`, so a handler may
 * throw them too and the error responder maps every one the same way.
 */
import { type CodeOfStatus, ERROR_CATALOGUE, type ErrorCode } from "../../contract/error-catalogue.ts";
import { HttpError } from "../../sdk/errors.ts";

/** One field-level problem in a request: a JSON Pointer to the field (`/items/0/name`; `""` is the whole body) and why. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** An error of the catalogue: its status comes from the code. */
export class CatalogueError extends HttpError {
  override name = "CatalogueError";
  declare readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, detail?: unknown, cause?: unknown) {
    super(ERROR_CATALOGUE[code].status, code, message, detail, cause === undefined ? undefined : { cause });
  }
}

/** 400: the body could not be parsed (`malformed_body`), does not match the schema (`invalid_input`), or the request is broken (`bad_request`). */
export class BadRequest extends CatalogueError {
  override name = "BadRequest";
  constructor(message: string, code: CodeOfStatus<400> = "invalid_input", detail?: FieldProblem[]) {
    super(code, message, detail);
  }
}

/** 401: a route that needs a token (the admin route) got none or a wrong one. */
export class Unauthorized extends CatalogueError {
  override name = "Unauthorized";
  constructor(message = "a valid token is required (Authorization: Bearer <token>)") {
    super("unauthorized", message);
  }
}

/** 403: the route refuses this kind of request. */
export class Forbidden extends CatalogueError {
  override name = "Forbidden";
  constructor(message: string) {
    super("forbidden", message);
  }
}

export class NotFound extends CatalogueError {
  override name = "NotFound";
  constructor(message = "Not Found", detail?: unknown) {
    super("not_found", message, detail);
  }
}

/** 405: the route exists with other methods; `allow` becomes the `Allow` header. */
export class MethodNotAllowed extends CatalogueError {
  override name = "MethodNotAllowed";
  constructor(
    readonly allow: readonly string[],
    message = "Method Not Allowed",
  ) {
    super("method_not_allowed", message, { allow: [...allow] });
  }
}

/** 408: the client did not send its whole body within the request timeout (its fault, not ours). */
export class RequestTimeout extends CatalogueError {
  override name = "RequestTimeout";
  constructor(timeoutMs: number) {
    super("request_timeout", `request body was not received within ${timeoutMs} ms`, { timeoutMs });
  }
}

/** 413: the body is over the size limit, or what it holds is over a limit (parts of a form, pixels of an image). */
export class PayloadTooLarge extends CatalogueError {
  override name = "PayloadTooLarge";
  constructor(limitBytes: number, message = `request body exceeds ${limitBytes} bytes`, detail: unknown = { limitBytes }) {
    super("payload_too_large", message, detail);
  }
}

export class UnsupportedMediaType extends CatalogueError {
  override name = "UnsupportedMediaType";
  constructor(got: string | undefined, expected: readonly string[]) {
    super("unsupported_media_type", `content type ${got ? `'${got}'` : "(none)"} is not accepted here; expected ${expected.join(" or ")}`, {
      contentType: got ?? null,
      accepted: [...expected],
    });
  }
}

export class TooManyRequests extends CatalogueError {
  override name = "TooManyRequests";
  constructor(message = "too many requests in flight", detail?: unknown) {
    super("too_many_requests", message, detail);
  }
}

/** 500: the service's own code failed. The body never carries the original message or stack. */
export class Internal extends CatalogueError {
  override name = "Internal";
  constructor(message = "Internal Server Error") {
    super("internal", message);
  }
}

/** 503: not ready (runners still loading), shutting down, overloaded, or a deadline that cannot be met. */
export class ServiceUnavailable extends CatalogueError {
  override name = "ServiceUnavailable";
  constructor(message = "Service Unavailable", code: CodeOfStatus<503> = "overloaded", detail?: unknown) {
    super(code, message, detail);
  }
}

/** 504 `stream_timeout`: a started stream hit a stream limit; sent as its error event. */
export class StreamTimeout extends CatalogueError {
  override name = "StreamTimeout";
  constructor(message: string, detail: { limit: "streamMaxMs" | "streamIdleMs"; ms: number }) {
    super("stream_timeout", message, detail);
  }
}

export class GatewayTimeout extends CatalogueError {
  override name = "GatewayTimeout";
  constructor(timeoutMs: number) {
    super("timeout", `request did not complete within ${timeoutMs} ms`, { timeoutMs });
  }
}
