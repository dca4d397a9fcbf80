export * from "./http-errors.ts";
export { toErrorResponse, errorBodyJson, type ErrorBody, type ErrorResponse } from "./error-response.ts";
