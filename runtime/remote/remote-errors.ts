/**
 * Errors of calls to a remote runner, as the API server answers them: catalogue errors whose message and
 * detail name the runner but never its address (a client must not learn the cluster's internals); the
 * address and the raw failure are the error's `cause`, which the server logs.
 */
import { ERROR_CATALOGUE, type ErrorCode, isErrorCode } from "../../contract/error-catalogue.ts";
import { CatalogueError } from "../errors/http-errors.ts";

/** 503 `runner_unavailable`: the runner could not be reached (refused, reset, DNS, connect timeout). */
export class RunnerUnavailable extends CatalogueError {
  override name = "RunnerUnavailable";
  constructor(runner: string, url: string, why: string, raw: string = why) {
    super("runner_unavailable", `runner ${runner} is unavailable: ${why}`, { runner }, new Error(`runner ${runner} at ${url}: ${raw}`));
  }
}

/** 504 `runner_timeout`: the runner took the request but did not answer in time. */
export class RunnerTimeout extends CatalogueError {
  override name = "RunnerTimeout";
  constructor(runner: string, url: string, timeoutMs: number) {
    super("runner_timeout", `runner ${runner} did not answer within ${timeoutMs} ms`, { runner, timeoutMs }, new Error(`runner ${runner} at ${url} timed out`));
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
    super(
      mappedCode(status, code),
      `runner ${runner} answered ${status}: ${message}`,
      { runner, runnerStatus: status },
      new Error(`runner ${runner} at ${url} answered ${status}`),
    );
  }
}

function mappedCode(status: number, code: string | undefined): ErrorCode {
  if (status >= 500 && code !== undefined && isErrorCode(code) && ERROR_CATALOGUE[code].status === status) return code;
  if (status === 503) return "runner_unavailable";
  if (status === 504) return "runner_timeout";
  return "runner_error";
}
