export * from "./http-errors.ts";
export { toErrorResponse, isHttpError, errorBodyJson, type ErrorBody, type ErrorResponse } from "./error-response.ts";
