/**
 * Errors of calls to a remote runner, as the API server answers them. They extend the sdk's `HttpError`,
 * so `toErrorResponse` maps them like any other: status, stable `code`, message naming runner and URL.
 */
import { HttpError } from "../../sdk/errors.ts";

/** 503 `runner_unavailable`: the runner could not be reached (refused, reset, DNS, connect timeout). */
export class RunnerUnavailable extends HttpError {
  override name = "RunnerUnavailable";
  constructor(runner: string, url: string, why: string) {
    super(503, "runner_unavailable", `runner ${runner} at ${url} is unavailable: ${why}`, { runner, url });
  }
}

/** 504 `runner_timeout`: the runner took the request but did not answer in time. */
export class RunnerTimeout extends HttpError {
  override name = "RunnerTimeout";
  constructor(runner: string, url: string, timeoutMs: number) {
    super(504, "runner_timeout", `runner ${runner} at ${url} did not answer within ${timeoutMs} ms`, { runner, url, timeoutMs });
  }
}

/**
 * The runner answered with an error: its status and code are kept (503 `overloaded` stays a 503), except
 * that a runner's 4xx means this API server sent something the runner rejects, which is our fault: 502.
 */
export class RunnerFailed extends HttpError {
  override name = "RunnerFailed";
  constructor(runner: string, url: string, status: number, code: string | undefined, message: string) {
    const mapped = status >= 500 && status <= 599 ? status : 502;
    super(mapped, code ?? (status === 503 ? "runner_unavailable" : "runner_error"), `runner ${runner} at ${url} answered ${status}: ${message}`, { runner, url, runnerStatus: status });
  }
}
