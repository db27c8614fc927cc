import { sha256Bytes } from "./digest.ts";
import { ImgxError, q } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";

/** Checks bytes held in memory (manifests, configs) against the descriptor that named them. */
export function checkBytes(bytes: Uint8Array, desc: Pick<Descriptor, "digest" | "size">, what: string): void {
  if (bytes.byteLength !== desc.size)
    throw new ImgxError("SIZE_MISMATCH", `Cannot accept ${what}: expected ${desc.size} bytes, got ${bytes.byteLength}`);
  const got = sha256Bytes(bytes);
  if (got !== desc.digest)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept ${what}: content has digest ${q(got)}, expected ${q(desc.digest)}`);
}
