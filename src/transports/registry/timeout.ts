import { ImgxError } from "../../core/errors.ts";

/**
 * Wraps a response so its body errors when no bytes arrive for `ms`: a stalled connection must
 * not hang a pull forever. The timer runs only while we wait on the network (inside a read), so a
 * consumer that pauses (a busy tar sink, a slower upload downstream) is never taken for a stall.
 */
export function withIdleTimeout(res: Response, ms: number, ctl: AbortController, host = "the registry", onEnd?: (bytes: number, error?: unknown) => void): Response {
  if (!res.body || [101, 204, 205, 304].includes(res.status)) {
    onEnd?.(0);
    return res;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let bytes = 0;
  let ended = false;
  const end = (e?: unknown) => {
    if (ended) return;
    ended = true;
    onEnd?.(bytes, e);
  };
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      // NETWORK, so the blob mover treats a stall like a dropped connection and retries it
      timer = setTimeout(() => ctl.abort(new ImgxError("NETWORK", `Cannot read from ${host}: connection idle for ${ms / 1000}s`)), ms);
      try {
        const { done, value } = await reader.read();
        clearTimeout(timer);
        if (done) {
          end();
          c.close();
        } else {
          bytes += value.byteLength;
          c.enqueue(value);
        }
      } catch (e) {
        clearTimeout(timer);
        const err = ctl.signal.aborted && ctl.signal.reason instanceof ImgxError ? ctl.signal.reason : e;
        end(err);
        c.error(err);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Byte bodies above this are sent as a watched stream too (with their Content-Length), for the idle timer. */
const WATCH_BYTES = 1024 * 1024;
const SLICE = 256 * 1024;

export interface BodyWatch {
  /** A chunk of `n` bytes was handed to the network: it must ask for the next one within the timeout. */
  sent(n: number): void;
  /** We are waiting on our own producer (its stalls are its own timer's business). */
  waiting(): void;
  /** The whole body is sent: now the response headers are awaited. */
  end(): void;
}

/**
 * A request body that reports its progress to `watch`, so a server that stops reading is detected
 * without cutting off a long upload whose bytes still move. Large byte bodies become a stream of
 * slices (no copies) with an explicit Content-Length, so they keep their framing.
 */
export function watchedBody(body: RequestInit["body"] | undefined, headers: Record<string, string>, watch: BodyWatch): RequestInit["body"] | undefined {
  let src: ReadableStream<Uint8Array>;
  if (body instanceof ReadableStream) src = body as ReadableStream<Uint8Array>;
  else if ((body instanceof Uint8Array || body instanceof ArrayBuffer) && body.byteLength > WATCH_BYTES) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-length")) headers["content-length"] = String(bytes.byteLength);
    let at = 0;
    src = new ReadableStream<Uint8Array>({ pull: (c) => (at >= bytes.byteLength ? c.close() : c.enqueue(bytes.subarray(at, (at += SLICE)))) }, { highWaterMark: 0 });
  } else return body;
  const reader = src.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        watch.waiting();
        const { done, value } = await reader.read();
        if (done) {
          watch.end();
          c.close();
        } else {
          watch.sent(value.byteLength);
          c.enqueue(value);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
