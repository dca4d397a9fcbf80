/** The one error type of the model store: a stable `code` for programs and a message for people. */
export type ModelStoreErrorCode = "INVALID_TAG" | "INVALID_INPUT" | "NOT_FOUND" | "EXISTS" | "CORRUPT" | "INVALID_ARCHIVE" | "LOCKED";

export class ModelStoreError extends Error {
  override readonly name = "ModelStoreError";
  constructor(
    readonly code: ModelStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
