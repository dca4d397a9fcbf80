/**
 * Errors a handler may throw on purpose. The runtime maps `HttpError` to its status and the standard
 * error body `{ error, code, detail, requestId }`; any other exception is a 500 with no stack in the body.
 */
export class BentocError extends Error {
  override name = "BentocError";
}

export class HttpError extends BentocError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}
