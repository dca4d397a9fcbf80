/**
 * Errors of calls to a remote runner, as the API server answers them: catalogue errors with a message
 * naming the runner (see contract/error-catalogue.ts for their statuses).
 */
import { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from "../../contract/error-catalogue.ts";
import { CatalogueError } from "../errors/http-errors.ts";

/** 503 `runner_unavailable`: the runner could not be reached (refused, reset, DNS, connect timeout). */
export class RunnerUnavailable extends CatalogueError {
  override name = "RunnerUnavailable";
  constructor(runner: string, url: string, why: string) {
    super("runner_unavailable", `runner ${runner} at ${url} is unavailable: ${why}`, { runner, url });
  }
}

/** 504 `runner_timeout`: the runner took the request but did not answer in time. */
export class RunnerTimeout extends CatalogueError {
  override name = "RunnerTimeout";
  constructor(runner: string, url: string, timeoutMs: number) {
    super("runner_timeout", `runner ${runner} at ${url} did not answer within ${timeoutMs} ms`, { runner, url, timeoutMs });
  }
}

/**
 * The runner answered with an error. A 5xx with a catalogue code keeps that code (503 `overloaded` stays
 * a 503 `overloaded`; a 503 without one is `runner_unavailable`); any 4xx means this API server sent
 * something the runner rejects, which is our fault: 502 `runner_error`.
 */
export class RunnerFailed extends CatalogueError {
  override name = "RunnerFailed";
  constructor(runner: string, url: string, status: number, code: string | undefined, message: string) {
    super(mappedCode(status, code), `runner ${runner} at ${url} answered ${status}: ${message}`, { runner, url, runnerStatus: status });
  }
}

function mappedCode(status: number, code: string | undefined): ErrorCode {
  if (status >= 500 && code !== undefined && isErrorCode(code) && ERROR_CATALOGUE[code].status === status) return code;
  if (status === 503) return "runner_unavailable";
  if (status === 504) return "runner_timeout";
  return "runner_error";
}
