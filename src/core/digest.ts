import { ImgxError, q } from "./errors.ts";

export type Digest = `sha256:${string}`;

const SHA256_RE = /^sha256:[a-f0-9]{64}$/;
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Parses a digest; only sha256 is accepted because it is the only algorithm imgx can verify. */
export function parseDigest(s: unknown, what = "digest"): Digest {
  if (typeof s !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot parse ${what}: expected a string, got ${typeof s}`);
  if (SHA256_RE.test(s)) return s as Digest;
  if (ANY_DIGEST_RE.test(s) && !s.startsWith("sha256:"))
    throw new ImgxError("UNSUPPORTED", `Cannot use ${what} ${q(s)}: only sha256 digests are supported`);
  throw new ImgxError("BAD_MANIFEST", `Cannot parse ${what} ${q(s)}: expected sha256: followed by 64 lowercase hex characters`);
}

export function digestHex(d: Digest): string {
  return d.slice(7);
}

export function sha256Bytes(data: Uint8Array | string): Digest {
  const h = new Bun.CryptoHasher("sha256");
  h.update(data);
  return `sha256:${h.digest("hex")}`;
}

/** Incremental sha256 with a byte count; the one hasher every stream uses. */
export class DigestCounter {
  private h = new Bun.CryptoHasher("sha256");
  size = 0;
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
    this.size += chunk.byteLength;
  }
  digest(): Digest {
    return `sha256:${this.h.digest("hex")}`;
  }
}
