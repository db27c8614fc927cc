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

/**
 * A request body over `stream` whose end is still read after the response. Bun stops reading a
 * body once its Content-Length bytes are sent and cancels it when the response arrives, so the
 * stream's end — where the verify stream checks digest and size and makes result() valid — would
 * never be reached when the source signals it a moment after its last byte. Cancelling the body
 * therefore leaves the source alone; `end()` reads it to its end, `cancel()` gives it up.
 */
export function bodyWithEnd(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  let pending: ReturnType<typeof reader.read> | undefined;
  let ended = false;
  let sent = 0;
  // one read at a time, shared: fetch's last pull and end() may both wait on the source's end
  const read = () =>
    (pending ??= reader.read().then(
      (r) => {
        pending = undefined;
        if (r.done) ended = true;
        return r;
      },
      (e) => {
        pending = undefined;
        throw e;
      },
    ));
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const r = await read();
        if (r.done) return c.close();
        sent += r.value.length;
        c.enqueue(r.value);
      },
      cancel() {},
    },
    { highWaterMark: 0 },
  );
  return {
    body,
    /** Bytes handed to fetch so far. */
    sent: () => sent,
    async end(): Promise<void> {
      while (!ended) {
        const r = await read();
        if (!r.done) throw new ImgxError("SIZE_MISMATCH", `Cannot upload blob: more bytes than the ${sent} sent`);
      }
    },
    cancel: (reason?: unknown) => (ended ? Promise.resolve() : reader.cancel(reason).catch(() => {})),
  };
}
