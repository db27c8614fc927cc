import { sha256Bytes, type Digest } from "./digest.ts";
import { ImgxError, q } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";

/** Checks bytes held in memory (manifests, configs) against the descriptor that named them. */
export function checkBytes(bytes: Uint8Array, desc: Pick<Descriptor, "digest" | "size">, what: string): void {
  checkHashed({ digest: sha256Bytes(bytes), size: bytes.byteLength }, desc, what);
}

/** The one verdict on hashed bytes, wherever they were hashed: size first, then digest; unset expectations pass. */
export function checkHashed(got: { digest: Digest; size: number }, expected: { digest?: Digest; size?: number }, what: string): void {
  if (expected.size !== undefined && got.size !== expected.size)
    throw new ImgxError("SIZE_MISMATCH", `Cannot accept ${what}: expected ${expected.size} bytes, got ${got.size}${got.size < expected.size ? " (truncated?)" : ""}`);
  if (expected.digest !== undefined && got.digest !== expected.digest)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept ${what}: content has digest ${q(got.digest)}, expected ${q(expected.digest)}`);
}
