import { ImgxError } from "../../core/errors.ts";

// Byte plumbing for chunked uploads: cut one blob stream into PATCH bodies without holding more
// than one chunk (and none at all when the size is known: each chunk streams through).

export type Reader = { read(): Promise<{ done: boolean; value?: Uint8Array }> };

/** A stream of exactly `len` bytes taken from `reader` (plus what was left over from the previous chunk). */
export function chunkStream(reader: Reader, leftover: Uint8Array | undefined, len: number) {
  const state: { leftover?: Uint8Array } = {};
  let sent = 0;
  let pending = leftover;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent >= len) return c.close();
      let chunk = pending;
      pending = undefined;
      if (!chunk) {
        const r = await reader.read();
        if (r.done) return c.error(new ImgxError("SIZE_MISMATCH", `Cannot upload blob: the stream ended after ${sent} of ${len} chunk bytes`));
        chunk = r.value!;
      }
      const take = Math.min(chunk.length, len - sent);
      if (take < chunk.length) state.leftover = chunk.subarray(take);
      sent += take;
      c.enqueue(chunk.subarray(0, take));
      if (sent >= len) c.close();
    },
  });
  return { body, leftover: () => state.leftover };
}

/** Fills `into` from the reader (after what was left over); one reused buffer per upload keeps memory flat. */
export async function readChunk(reader: Reader, leftover: Uint8Array | undefined, into: Uint8Array): Promise<{ data: Uint8Array; leftover?: Uint8Array }> {
  let n = 0;
  let pending = leftover;
  while (n < into.length) {
    let chunk = pending;
    pending = undefined;
    if (!chunk) {
      const r = await reader.read();
      if (r.done) break;
      chunk = r.value!;
    }
    const take = Math.min(chunk.length, into.length - n);
    into.set(chunk.subarray(0, take), n);
    n += take;
    if (take < chunk.length) return { data: into.subarray(0, n), leftover: chunk.subarray(take) };
  }
  return { data: into.subarray(0, n) };
}

/** Reads and drops `n` bytes from the reader; returns what was read past them. */
export async function skipBytes(reader: Reader, n: number): Promise<Uint8Array | undefined> {
  let left = n;
  while (left > 0) {
    const r = await reader.read();
    if (r.done) throw new ImgxError("SIZE_MISMATCH", `Cannot resume upload: the blob ended before byte ${n}`);
    if (r.value!.length > left) return r.value!.subarray(left);
    left -= r.value!.length;
  }
  return undefined;
}
