// A BlobInput the way the copy pipeline hands one to a sink: a Bun stream piped through a hashing
// TransformStream whose result() is valid only after the stream ended, and which errors at the end
// when the bytes do not match what was declared (like the pipeline's verify stream).
import { ImgxError } from "../../src/core/errors.ts";
import type { BlobInput } from "../../src/transports/types.ts";
import { sha256 } from "./tiny-image.ts";

export interface BlobInputOptions {
  mediaType?: string;
  /** Declare digest and size up front (a blob copied unchanged); false = unknown (recompressed on the way). */
  known?: boolean;
  /** Size of the pieces the stream delivers. */
  piece?: number;
  /** Declare this digest instead of the true one: the stream errors with DIGEST_MISMATCH at its end. */
  lieDigest?: `sha256:${string}`;
  /**
   * Wait this long between the last byte and the end of the stream, as a network source may: a
   * sink must still read the stream to its end (else result() never becomes valid).
   */
  endDelayMs?: number;
}

export function blobInput(bytes: Uint8Array, o: BlobInputOptions = {}): BlobInput & { ended: () => boolean; cancelled: () => boolean } {
  const known = o.known ?? true;
  const declared = o.lieDigest ?? sha256(bytes);
  const piece = o.piece ?? 64 * 1024;
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  let result: { digest: `sha256:${string}`; size: number } | undefined;
  let off = 0;
  let cancelled = false;
  const source = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
    async pull(c) {
      if (off >= bytes.length) {
        if (o.endDelayMs) await Bun.sleep(o.endDelayMs);
        return c.close();
      }
      c.enqueue(bytes.slice(off, off + piece));
      off += piece;
    },
  });
  const stream = source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, c) {
        hasher.update(chunk);
        size += chunk.length;
        c.enqueue(chunk);
      },
      flush(c) {
        const digest = `sha256:${hasher.digest("hex")}` as const;
        if (known && digest !== declared) return c.error(new ImgxError("DIGEST_MISMATCH", `Cannot accept test blob: content has digest "${digest}", expected "${declared}"`));
        result = { digest, size };
      },
    }),
  );
  return {
    mediaType: o.mediaType ?? "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: known ? declared : undefined,
    size: known ? bytes.length : undefined,
    stream,
    result() {
      if (!result) throw new Error("result() called before the stream ended cleanly");
      return result;
    },
    ended: () => result !== undefined,
    /** The sink gave the stream up (a failed upload must release its source, not leave it open). */
    cancelled: () => cancelled,
  };
}
