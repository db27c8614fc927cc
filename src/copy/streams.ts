import { DigestCounter, type Digest } from "../core/digest.ts";
import { ImgxError } from "../core/errors.ts";
import { checkHashed } from "../core/verify.ts";
import type { Compression } from "../core/media-types.ts";
import { blockCodec } from "./block-compress.ts";
import type { WorkerPools } from "./worker-pool.ts";
import { parallelCompressStream } from "./gzip-blocks.ts";

/**
 * The one hasher of a blob's bytes: passes chunks through, counts and hashes them, and errors the
 * stream (instead of closing it) when the digest or size differs from `expected`. Sinks that commit
 * only on a clean end therefore never commit a bad blob.
 */
export function verifyStream(
  expected: { digest?: Digest; size?: number },
  what: string,
  onBytes?: (n: number) => void,
  /** Bytes before the stream's first chunk, already hashed (resumed downloads). */
  prefix?: DigestCounter,
): { stream: TransformStream<Uint8Array, Uint8Array>; result: () => { digest: Digest; size: number } } {
  const h = prefix ?? new DigestCounter();
  let final: { digest: Digest; size: number } | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      h.update(chunk);
      if (expected.size !== undefined && h.size > expected.size)
        throw new ImgxError("SIZE_MISMATCH", `Cannot accept ${what}: more than the expected ${expected.size} bytes`);
      onBytes?.(chunk.byteLength);
      controller.enqueue(chunk);
    },
    flush() {
      const got = { digest: h.digest(), size: h.size };
      checkHashed(got, expected, what);
      final = got;
    },
  });
  return {
    stream,
    result: () => {
      if (!final) throw new ImgxError("IO", `Cannot use ${what}: its stream has not ended cleanly`);
      return final;
    },
  };
}

/**
 * Decompresses `input`. A failure of the decompressor itself (not valid gzip/zstd, cut short) is
 * bad data, never a network error: it becomes BAD_ARCHIVE naming `what`, so nothing retries it as a
 * broken connection and the CLI exits 6. Errors from `input` (verification, network) pass unchanged.
 */
export function decompress(input: ReadableStream<Uint8Array>, c: Compression, what: string): ReadableStream<Uint8Array> {
  if (c === "none") return input;
  let upstream: { error: unknown } | undefined;
  // read the input ourselves to remember its own errors, so the decompressor's failures can be told apart
  const reader = input.getReader();
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        upstream = { error: e };
        controller.error(e);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const out = source.pipeThrough(new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>).getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await out.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      } catch (e) {
        if (upstream || e instanceof ImgxError) throw upstream ? upstream.error : e;
        throw new ImgxError("BAD_ARCHIVE", `Cannot decompress ${what}: not valid ${c} data (${(e as Error)?.message ?? e})`, {
          hint: "the blob's digest matches, so the source stored it this way; re-create the image (or its layer) from an intact copy",
          cause: e,
        });
      }
    },
    cancel: (reason) => out.cancel(reason),
  });
}

/** gzip and zstd alike: 1 MiB blocks on every core (gzip-blocks.ts) at `level` (default: block-compress.ts). */
export function compressStream(c: Compression, level?: number, pools?: WorkerPools): TransformStream<Uint8Array, Uint8Array> | undefined {
  if (c === "none") return undefined;
  return parallelCompressStream(blockCodec(c, level), pools);
}

/** Reads a small stream (config, JSON) into memory, refusing more than `max` bytes. */
export async function readAllBounded(stream: ReadableStream<Uint8Array>, max: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.byteLength;
    if (n > max) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: larger than ${max} bytes`);
    chunks.push(c);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
