import { ImgxError } from "../../core/errors.ts";

/**
 * Wraps a response so its body errors when no bytes arrive for `ms`: a stalled connection must
 * not hang a pull forever. The timer restarts with every chunk.
 */
export function withIdleTimeout(res: Response, ms: number, ctl: AbortController, host = "the registry"): Response {
  if (!res.body || [101, 204, 205, 304].includes(res.status)) return res;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    // NETWORK, so the blob mover treats a stall like a dropped connection and retries it
    timer = setTimeout(() => ctl.abort(new ImgxError("NETWORK", `Cannot read from ${host}: connection idle for ${ms / 1000}s`)), ms);
  };
  arm();
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          clearTimeout(timer);
          c.close();
          return;
        }
        arm();
        c.enqueue(value);
      } catch (e) {
        clearTimeout(timer);
        c.error(ctl.signal.aborted && ctl.signal.reason instanceof ImgxError ? ctl.signal.reason : e);
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}
