/**
 * The error responses of the OpenAPI document, from the runtime's error catalogue
 * (contract/error-catalogue.ts): one response per status the runtime answers with, listing that status's
 * codes (in its description and as `x-bentoc-error-codes`), all with the one error body `Error` that the
 * generated client's `BentocClientError` reads.
 */
import type { HeaderObject, ResponseObject, SchemaObject } from "openapi3-ts/oas31";
import { codesByStatus, ERROR_CATALOGUE, type ErrorCode, STATUS_TEXT } from "../../../contract/error-catalogue.ts";

export const ERROR_SCHEMA_NAME = "Error";
export const REQUEST_ID_HEADER = "x-request-id";
/** The vendor extension of each error response that lists its codes. */
export const ERROR_CODES_EXTENSION = "x-bentoc-error-codes";

export const ERROR_SCHEMA: SchemaObject = {
  type: "object",
  description: "The body of every error response.",
  properties: {
    error: { type: "string", description: "Human-readable message." },
    code: {
      type: "string",
      description: "Machine-readable code: one of the runtime's (each response lists its own), or one a service's `HttpError` chose.",
    },
    detail: {
      description: "More about the failure; for `invalid_input`, a list of `{ path, message }`, one per offending field.",
    },
    requestId: { type: "string", description: "The request id, also sent as the `x-request-id` header." },
  },
  required: ["error", "code", "requestId"],
};

export interface ErrorStatus {
  status: string;
  /** Name of the response under `components/responses` (the reason phrase: `BadRequest`, `ServiceUnavailable`). */
  name: string;
  codes: readonly ErrorCode[];
}

const requestId = "6f1c2d0e-0000-4000-8000-000000000000";

/** Every status of the catalogue with its codes, ascending. */
export const ERROR_STATUSES: readonly ErrorStatus[] = [...codesByStatus()].map(([status, codes]) => ({
  status: String(status),
  name: (STATUS_TEXT[status] ?? `Status${status}`).replace(/[^A-Za-z]/g, ""),
  codes,
}));

/** The response of a status: a description listing its codes, their headers, and an example per code. */
export function errorResponse(e: ErrorStatus): ResponseObject {
  const lines = e.codes.map((code) => `- \`${code}\`: ${ERROR_CATALOGUE[code].description}`);
  const headers: Record<string, HeaderObject | { $ref: string }> = { [REQUEST_ID_HEADER]: { $ref: "#/components/headers/RequestId" } };
  if (e.codes.some((code) => "retryAfterS" in ERROR_CATALOGUE[code])) {
    headers["retry-after"] = { description: "Seconds to wait before retrying (sent with the codes that can be retried).", schema: { type: "integer" } };
  }
  if (e.status === "405") headers["allow"] = { description: "The methods the route allows.", schema: { type: "string" } };
  const examples = Object.fromEntries(
    e.codes.map((code) => [code, { summary: ERROR_CATALOGUE[code].title, value: { error: ERROR_CATALOGUE[code].title, code, requestId } }]),
  );
  return {
    description: `${STATUS_TEXT[Number(e.status)] ?? e.status}. Codes:\n${lines.join("\n")}`,
    headers,
    content: { "application/json": { schema: { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` }, examples } },
    [ERROR_CODES_EXTENSION]: [...e.codes],
  };
}
