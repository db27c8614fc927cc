import type { ErrorCode } from "../core/errors.ts";

/** Exit statuses scripts can rely on (documented in the README). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  network: 5,
  integrity: 6,
  localIo: 7,
  interrupted: 130,
} as const;

const BY_CODE: Record<ErrorCode, number> = {
  USAGE: EXIT.usage,
  BAD_REFERENCE: EXIT.usage,
  NOT_FOUND: EXIT.notFound,
  MANIFEST_UNKNOWN: EXIT.notFound,
  BLOB_UNKNOWN: EXIT.notFound,
  NAME_UNKNOWN: EXIT.notFound,
  PLATFORM_NOT_FOUND: EXIT.notFound,
  UNAUTHORIZED: EXIT.auth,
  DENIED: EXIT.auth,
  NETWORK: EXIT.network,
  TLS: EXIT.network,
  REGISTRY: EXIT.network,
  DIGEST_MISMATCH: EXIT.integrity,
  SIZE_MISMATCH: EXIT.integrity,
  BAD_ARCHIVE: EXIT.integrity,
  BAD_MANIFEST: EXIT.integrity,
  UNSUPPORTED: EXIT.integrity,
  DEST_EXISTS: EXIT.localIo,
  LOCKED: EXIT.localIo,
  IO: EXIT.localIo,
};

export function exitCodeFor(code: ErrorCode | undefined): number {
  return code ? BY_CODE[code] : EXIT.failure;
}
