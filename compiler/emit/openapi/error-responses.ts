/**
 * The one error body every failure carries (the runtime's error catalogue writes it, the generated
 * client's `BentocClientError` reads it) and the statuses it is documented under.
 */
import type { ResponseObject, SchemaObject } from "openapi3-ts/oas31";

export const ERROR_SCHEMA_NAME = "Error";
export const REQUEST_ID_HEADER = "x-request-id";

export const ERROR_SCHEMA: SchemaObject = {
  type: "object",
  description: "The body of every error response.",
  properties: {
    error: { type: "string", description: "Human-readable message." },
    code: { type: "string", description: "Machine-readable code, e.g. `invalid_input`." },
    detail: {
      description:
        "More about the failure; for `invalid_input`, a list of `{ path, message }`, one per offending field.",
    },
    requestId: { type: "string", description: "The request id, also sent as the `x-request-id` header." },
  },
  required: ["error", "code", "requestId"],
};

export interface ErrorStatus {
  status: string;
  /** Name of the response under `components/responses`. */
  name: string;
  description: string;
  example: { error: string; code: string; detail?: unknown; requestId: string };
}

const requestId = "6f1c2d0e-0000-4000-8000-000000000000";

export const ERROR_STATUSES: readonly ErrorStatus[] = [
  {
    status: "400",
    name: "BadRequest",
    description: "Malformed or invalid input; `detail` says which field and why.",
    example: {
      error: "invalid input: /text must NOT have fewer than 1 characters",
      code: "invalid_input",
      detail: [{ path: "/text", message: "must NOT have fewer than 1 characters" }],
      requestId,
    },
  },
  {
    status: "404",
    name: "NotFound",
    description: "No such route.",
    example: { error: "no route for POST /nope", code: "not_found", requestId },
  },
  {
    status: "413",
    name: "PayloadTooLarge",
    description: "The body is over the server's size limit.",
    example: { error: "body over the limit of 10485760 bytes", code: "payload_too_large", requestId },
  },
  {
    status: "415",
    name: "UnsupportedMediaType",
    description: "The `Content-Type` is not one this API takes.",
    example: { error: "unsupported content type text/csv", code: "unsupported_media_type", requestId },
  },
  {
    status: "429",
    name: "TooManyRequests",
    description: "Over the service's maximum concurrency; retry later.",
    example: { error: "too many requests in flight", code: "too_many_requests", requestId },
  },
  {
    status: "500",
    name: "InternalError",
    description: "The service's code failed (no stack trace is sent; it is logged with the request id).",
    example: { error: "internal error", code: "internal_error", requestId },
  },
  {
    status: "503",
    name: "Unavailable",
    description: "Not ready (runners still loading), draining, or overloaded.",
    example: { error: "service not ready", code: "unavailable", requestId },
  },
  {
    status: "504",
    name: "Timeout",
    description: "The request took longer than the service's timeout.",
    example: { error: "request timed out after 60000 ms", code: "timeout", requestId },
  },
];

export function errorResponse(e: ErrorStatus): ResponseObject {
  return {
    description: e.description,
    headers: { [REQUEST_ID_HEADER]: { $ref: "#/components/headers/RequestId" } },
    content: {
      "application/json": {
        schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` },
        example: e.example,
      },
    },
  };
}
