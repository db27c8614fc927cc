import pkg from "../../../package.json" with { type: "json" };
import type { Permits } from "../../core/limit.ts";
import { endpointOf, type EndpointName, type RequestObserver } from "./observe.ts";
import { watchedBody, withIdleTimeout } from "./timeout.ts";

const USER_AGENT = `imgx/${pkg.version}`;

/** What one registry client sends every request with. */
export interface HttpConfig {
  host: string;
  timeoutMs: number;
  /** The client's own keep-alive pool and TLS settings (Bun never shares its connections). */
  session: Bun.FetchSession;
  observer?: RequestObserver;
  /** The client's connection budget: a request holds a permit until its body is read or cancelled. */
  permits?: Permits;
}

/**
 * Sends one HTTP request, never following redirects. The timeout is an idle timer, not a deadline:
 * it restarts with every request-body chunk sent and every response chunk read, so a 32 MiB PATCH
 * fed by a slow source is not cut off while bytes still move. The wait for response headers starts
 * once the body is sent. The observer hears of the request when its body ends, however it ends.
 */
export async function send(cfg: HttpConfig, url: string, init: RequestInit, endpoint?: EndpointName): Promise<Response> {
  const outer = init.signal;
  if (outer?.aborted) throw outer.reason;
  const release = cfg.permits ? await cfg.permits.take() : undefined;
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(outer!.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  const secs = cfg.timeoutMs / 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(new Error(why)), cfg.timeoutMs);
  };
  const obs = cfg.observer;
  const method = init.method ?? "GET";
  let bytesSent = 0;
  const start = performance.now();
  let ttfb = 0;
  let status = 0;
  const finish = (bytesReceived: number, error?: unknown) => {
    outer?.removeEventListener("abort", onAbort);
    release?.();
    if (obs) {
      const o = { method, endpoint: endpoint ?? endpointOf(method, url), status, bytesSent, bytesReceived, start, ttfbMs: ttfb, totalMs: performance.now() - start };
      obs(error === undefined ? o : { ...o, error: String((error as Error)?.message ?? error) });
    }
  };
  arm(`no response within ${secs}s`);
  try {
    const headers: Record<string, string> = { "user-agent": USER_AGENT, ...(init.headers as Record<string, string> | undefined) };
    const body = watchedBody(init.body, headers, {
      sent: (n) => {
        bytesSent += n;
        arm(`request body stalled for ${secs}s (the server stopped reading)`);
      },
      waiting: () => clearTimeout(timer),
      end: () => arm(`no response within ${secs}s`),
    });
    if (obs && body === init.body) bytesSent = byteLength(init.body);
    const res = await cfg.session.fetch(url, { ...init, headers, body, signal: ctl.signal, redirect: "manual", decompress: false, duplex: body instanceof ReadableStream ? "half" : undefined } as RequestInit);
    ttfb = performance.now() - start;
    status = res.status;
    if (method === "HEAD") {
      finish(0);
      return res;
    }
    return withIdleTimeout(res, cfg.timeoutMs, ctl, cfg.host, finish);
  } catch (e) {
    ttfb = performance.now() - start;
    finish(0, e);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function byteLength(body: RequestInit["body"] | undefined): number {
  if (body == null) return 0;
  if (typeof body === "string") return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  if (body instanceof Blob) return body.size;
  return 0;
}
