/** The one error type of registry work: a stable `code` for programs and a one-line message for people. */
export type RegistryErrorCode =
  | "INVALID_REFERENCE"
  | "INVALID_OPTIONS"
  | "UNREACHABLE"
  | "TLS"
  | "UNAUTHORIZED"
  | "DENIED"
  | "NOT_FOUND"
  | "DIGEST_MISMATCH"
  | "INVALID_ARTIFACT"
  | "PROTOCOL";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
