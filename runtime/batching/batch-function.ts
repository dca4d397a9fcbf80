/**
 * The batch-function contract (dataloader-style). A batch function takes N items and returns N results in
 * the same order, each either a value or an `Error` (that item failed alone; its batch-mates are unaffected).
 * A thrown error (or rejected promise) fails the whole batch. A result that is not an array of length N
 * fails every item of the batch with a `BatchContractError` saying what came back.
 */
import { BatchContractError } from "./errors.ts";

export interface BatchInfo {
  /** W3C traceparent of the batch span, when tracing is on. */
  traceparent?: string | undefined;
}

export type BatchFunction<I, O> = (items: I[], info: BatchInfo) => Promise<ArrayLike<O | Error>> | ArrayLike<O | Error>;

export type BatchOutcome<O> =
  /** One entry per item: the value, or the Error that item failed with. */
  | { kind: "results"; results: Array<O | Error> }
  /** The function threw (or broke the contract): every item failed with `error`. */
  | { kind: "failed"; error: Error; thrown: boolean };

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs `fn` on `items` and checks the contract; never throws. */
export async function executeBatch<I, O>(fn: BatchFunction<I, O>, items: I[], info: BatchInfo = {}, label = "batch function"): Promise<BatchOutcome<O>> {
  let out: ArrayLike<O | Error>;
  try {
    out = await fn(items, info);
  } catch (err) {
    return { kind: "failed", error: asError(err), thrown: true };
  }
  if (out === null || typeof out !== "object" || typeof (out as { length?: unknown }).length !== "number") {
    const got = out === null ? "null" : typeof out;
    return {
      kind: "failed",
      thrown: false,
      error: new BatchContractError(
        `${label} returned ${got} for a batch of ${items.length} items; a batchable method must return an array with one result per item`,
      ),
    };
  }
  if (out.length !== items.length) {
    return {
      kind: "failed",
      thrown: false,
      error: new BatchContractError(
        `${label} returned ${out.length} results for a batch of ${items.length} items; a batchable method must return exactly one result per item, in order`,
      ),
    };
  }
  return { kind: "results", results: Array.from(out) };
}
