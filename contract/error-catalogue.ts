/**
 * The error catalogue: every code the bentoc runtime itself answers with, its HTTP status, a title and
 * what it means. One definition read by the runtime's error classes and error responder, by the OpenAPI
 * emitter (which documents each status with its codes) and by the docs. A service's own `HttpError`s may
 * carry other codes; those are the service's to document.
 *
 * Every error body has the same shape: `{ "error": message, "code": code, "detail"?: …, "requestId": id }`.
 */

export interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
  readonly description: string;
  /** Seconds a client should wait before retrying (sent as `Retry-After`); absent: do not retry as is. */
  readonly retryAfterS?: number;
}

export const ERROR_CATALOGUE = {
  invalid_input: {
    status: 400,
    title: "Invalid input",
    description: "The body or query does not match the API's schema; `detail` lists `{ path, message }` per offending field.",
  },
  malformed_body: {
    status: 400,
    title: "Malformed body",
    description: "The body could not be read as its content type says: not JSON, not UTF-8, a truncated multipart form, an undecodable image.",
  },
  bad_request: {
    status: 400,
    title: "Bad request",
    description: "The HTTP request itself is malformed: a bad request line or header, or a duplicate or conflicting `Content-Length`.",
  },
  unauthorized: {
    status: 401,
    title: "Unauthorized",
    description: "The route needs a token (`Authorization: Bearer …`) and the request had none or a wrong one; only the admin route does.",
  },
  forbidden: {
    status: 403,
    title: "Forbidden",
    description: "The route refuses this kind of request: the admin route answers no browser (a request with an `Origin` header).",
  },
  not_found: { status: 404, title: "Not found", description: "No route has this path." },
  method_not_allowed: {
    status: 405,
    title: "Method not allowed",
    description: "The route exists with other methods; the `Allow` header and `detail.allow` list them.",
  },
  request_timeout: {
    status: 408,
    title: "Request timeout",
    description: "The client did not send its whole body within the request timeout.",
  },
  payload_too_large: { status: 413, title: "Payload too large", description: "The body is over the server's size limit (`server.max_body_bytes`)." },
  unsupported_media_type: { status: 415, title: "Unsupported media type", description: "The `Content-Type` is not one this API takes." },
  too_many_requests: {
    status: 429,
    title: "Too many requests",
    description: "More requests are being handled than the service's `maxConcurrency`; retry after `Retry-After` seconds.",
    retryAfterS: 1,
  },
  headers_too_large: { status: 431, title: "Request headers too large", description: "The request's headers are over the server's limit." },
  internal: {
    status: 500,
    title: "Internal server error",
    description: "The service's code failed. The body carries no stack trace; the server logs it with the request id.",
  },
  batch_contract: {
    status: 500,
    title: "Batch contract broken",
    description: "A `@batchable` method returned something other than one result per item.",
  },
  runner_error: {
    status: 502,
    title: "Runner error",
    description: "A remote runner (runner-split) rejected what this API server sent it.",
  },
  not_ready: {
    status: 503,
    title: "Not ready",
    description: "The runners are still loading their models; retry after `Retry-After` seconds.",
    retryAfterS: 5,
  },
  shutting_down: {
    status: 503,
    title: "Shutting down",
    description: "The server is draining before it stops; retry (another replica takes it).",
    retryAfterS: 1,
  },
  overloaded: {
    status: 503,
    title: "Overloaded",
    description: "A runner's queue is full; retry after `Retry-After` seconds.",
    retryAfterS: 1,
  },
  deadline: {
    status: 503,
    title: "Deadline cannot be met",
    description: "The runner cannot finish this call within the request's deadline, so it was refused before it ran.",
    retryAfterS: 1,
  },
  aborted: {
    status: 503,
    title: "Aborted",
    description: "The call was cancelled because its request ended (client gone or timed out); usually seen only in logs.",
  },
  runner_unavailable: {
    status: 503,
    title: "Runner unavailable",
    description: "A remote runner (runner-split) could not be reached or is not ready; `detail.runner` names it.",
    retryAfterS: 1,
  },
  timeout: { status: 504, title: "Timeout", description: "The request took longer than the service's timeout (`traffic.timeoutMs`)." },
  stream_timeout: {
    status: 504,
    title: "Stream timeout",
    description:
      "A streamed response ran longer than `server.streamMaxMs`, or its handler took longer than `server.streamIdleMs` to produce the next item; sent as the stream's error event.",
  },
  runner_timeout: {
    status: 504,
    title: "Runner timeout",
    description: "A remote runner took the call but did not answer in time; `detail.runner` names it.",
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Codes whose status is `S`. */
export type CodeOfStatus<S extends number> = { [C in ErrorCode]: (typeof ERROR_CATALOGUE)[C]["status"] extends S ? C : never }[ErrorCode];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The catalogue's statuses, ascending, each with its codes in catalogue order. */
export function codesByStatus(): ReadonlyMap<number, readonly ErrorCode[]> {
  const out = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const status = ERROR_CATALOGUE[code].status;
    const list = out.get(status) ?? [];
    list.push(code);
    out.set(status, list);
  }
  return new Map([...out].sort(([a], [b]) => a - b));
}

/** The standard reason phrase of an HTTP status (the status line and the error docs). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
