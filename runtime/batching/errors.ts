/**
 * Errors the dispatcher rejects calls with: catalogue errors (contract/error-catalogue.ts), so an API
 * server answers them with their status and code like any other error.
 */
import type { CodeOfStatus } from "../../contract/error-catalogue.ts";
import { CatalogueError } from "../errors/http-errors.ts";

/** Why a call was refused before (or instead of) running. */
export type RejectionCode = Extract<CodeOfStatus<503>, "overloaded" | "deadline" | "aborted" | "not_ready">;

/** 503: the runner cannot take this call now (queue full, deadline unreachable, stopped) or it was aborted. */
export class ServiceUnavailableError extends CatalogueError {
  override name = "ServiceUnavailableError";
  declare readonly code: RejectionCode;
  constructor(code: RejectionCode, message: string) {
    super(code, message);
  }
}

/** 500: the batch function broke its contract (returned the wrong number of results, or not an array). */
export class BatchContractError extends CatalogueError {
  override name = "BatchContractError";
  constructor(message: string) {
    super("batch_contract", message);
  }
}
