/**
 * Errors a handler may throw on purpose. The runtime maps an `HttpError` to its status and the standard
 * error body `{ error, code, detail, requestId }`; any other exception is a 500 with no stack in the body.
 * The runtime's own codes and statuses are listed in its error catalogue (docs/errors.md).
 */
export class BentocError extends Error {
  override name = "BentocError";
}

/**
 * Marks `HttpError`s. A service's bundle carries its own copy of this class (a different class object
 * from the runtime's), so the runtime recognises one by this brand rather than by `instanceof`.
 */
const HTTP_ERROR_BRAND = Symbol.for("bentoc.HttpError");

export class HttpError extends BentocError {
  override name = "HttpError";
  constructor(
    /** HTTP status, 400–599. */
    readonly status: number,
    /** Stable machine-readable code, e.g. `conflict`. */
    readonly code: string,
    message: string,
    /** Sent as `detail` in the error body (anything JSON can carry). */
    readonly detail?: unknown,
  ) {
    super(message);
  }
}
Object.defineProperty(HttpError.prototype, HTTP_ERROR_BRAND, { value: true });

/** Whether `err` is an `HttpError` (from any copy of this module) with a status in 400–599. */
export function isHttpError(err: unknown): err is HttpError {
  if (typeof err !== "object" || err === null || (err as Record<symbol, unknown>)[HTTP_ERROR_BRAND] !== true) return false;
  const { status, code } = err as HttpError;
  return Number.isInteger(status) && status >= 400 && status <= 599 && typeof code === "string";
}
