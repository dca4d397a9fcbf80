/**
 * Errors the dispatcher rejects calls with. The API server maps any error that carries a numeric `status`
 * and a string `code` to that HTTP status and the standard error body, so these need no server changes.
 */

/** Why a call was refused before (or instead of) running. */
export type RejectionCode = "overloaded" | "deadline" | "aborted" | "not_ready";

/** 503: the runner cannot take this call now (queue full, deadline unreachable, stopped) or it was aborted. */
export class ServiceUnavailableError extends Error {
  override name = "ServiceUnavailableError";
  readonly status = 503;
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}

/** 500: the batch function broke its contract (returned the wrong number of results, or not an array). */
export class BatchContractError extends Error {
  override name = "BatchContractError";
  readonly status = 500;
  readonly code = "batch_contract";
}
