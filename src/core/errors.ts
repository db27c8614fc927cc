/** Stable error codes; the CLI maps each to an exit status (see cli/exit-codes.ts). */
export type ErrorCode =
  | "USAGE"
  | "BAD_REFERENCE"
  | "BAD_ARCHIVE"
  | "BAD_MANIFEST"
  | "UNSUPPORTED"
  | "NOT_FOUND"
  | "MANIFEST_UNKNOWN"
  | "BLOB_UNKNOWN"
  | "NAME_UNKNOWN"
  | "PLATFORM_NOT_FOUND"
  | "DIGEST_MISMATCH"
  | "SIZE_MISMATCH"
  | "UNAUTHORIZED"
  | "DENIED"
  | "NETWORK"
  | "TLS"
  | "REGISTRY"
  | "DEST_EXISTS"
  | "LOCKED"
  | "IO";

export class ImgxError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "ImgxError";
    this.code = code;
    this.hint = opts.hint;
  }
}

export function isImgxError(e: unknown, code?: ErrorCode): e is ImgxError {
  return e instanceof ImgxError && (code === undefined || e.code === code);
}

/** Quote a value for an error message the same way everywhere. */
export function q(v: unknown): string {
  return JSON.stringify(String(v));
}

/**
 * The one answer to "are the bytes themselves wrong?": such a failure is never retried as a network
 * fault, voids resumable partial data, and exits with the integrity status.
 */
export function isIntegrityError(e: unknown): e is ImgxError {
  return e instanceof ImgxError && INTEGRITY.has(e.code);
}

const INTEGRITY = new Set<ErrorCode>(["DIGEST_MISMATCH", "SIZE_MISMATCH", "BAD_ARCHIVE", "BAD_MANIFEST"]);
