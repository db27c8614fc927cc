// A counting reverse proxy on loopback in front of a registry. Tests read from it what actually
// crossed the wire (how many PATCHes, whether a body came with Content-Length or chunked), which
// neither the client nor the registry's access log tells reliably. A per-request `fault` hook lets
// later tests inject failures at exactly the request they choose.

export interface SeenRequest {
  n: number;
  /** performance.now() when the request arrived (e.g. to check a client waited out a Retry-After). */
  at: number;
  method: string;
  /** Path with repository, digests and upload ids replaced, e.g. "PATCH /v2/<name>/blobs/uploads/<id>". */
  pattern: string;
  path: string;
  search: string;
  /** Only headers tests care about; Authorization is recorded as present/absent, never its value. */
  headers: { contentLength?: string; transferEncoding?: string; contentRange?: string; contentType?: string; range?: string; authorization: boolean };
  bytesIn: number;
  status?: number;
  /** The response's Location as the client saw it (rewritten onto the proxy). */
  location?: string;
  bytesOut: number;
}

export type FaultAction =
  | { kind: "status"; status: 500 | 502 | 503 | 429 | number; retryAfter?: number }
  /** Read this many request-body bytes (0 = none), then drop the connection: the client sees a reset. */
  | { kind: "reset-request"; afterBytes?: number }
  /** Forward, then break the response body after this many bytes. */
  | { kind: "reset"; afterBytes: number }
  /** Forward, then stop the response body after this many bytes (the length header promised more). */
  | { kind: "truncate"; afterBytes: number }
  /** Forward, flipping one byte of the response body at this offset. */
  | { kind: "flip"; at: number }
  /** Wait before forwarding. */
  | { kind: "stall"; ms: number }
  /** Forward without the Range header, as a registry (or a proxy before it) that ignores Range: 200 and the whole blob. */
  | { kind: "ignore-range" };

export interface CountingProxyOptions {
  fault?: (req: SeenRequest, n: number) => FaultAction | undefined;
}

export interface CountingProxy {
  host: string;
  url: string;
  requests: SeenRequest[];
  /** Requests per pattern, e.g. counts()["PATCH /v2/<name>/blobs/uploads/<id>"]. */
  counts(): Record<string, number>;
  /** Requests since the last reset(). */
  reset(): void;
  setFault(f: CountingProxyOptions["fault"]): void;
  stop(): void;
}

/** "/v2/team/app/blobs/uploads/UUID" → "/v2/<name>/blobs/uploads/<id>". */
export function pathPattern(path: string): string {
  if (path === "/v2/" || path === "/v2") return "/v2/";
  const m = /^\/v2\/(.+?)\/(blobs\/uploads\/?|blobs|manifests|tags)(\/.*)?$/.exec(path);
  if (!m) return path;
  const kind = m[2]!.replace(/\/$/, "");
  const rest = m[3] && m[3] !== "/" ? (kind === "blobs/uploads" ? "/<id>" : /^\/sha256:/.test(m[3]) ? "/<digest>" : kind === "manifests" ? "/<tag>" : m[3]) : kind === "blobs/uploads" ? "/" : "";
  return `/v2/<name>/${kind}${rest}`;
}

function broken(afterBytes: number, up: ReadableStream<Uint8Array>, seen: SeenRequest, how: "reset" | "truncate" | "flip"): ReadableStream<Uint8Array> {
  const reader = up.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read();
      if (r.done) return c.close();
      let chunk = r.value;
      if (sent + chunk.length > afterBytes) {
        if (how === "flip") {
          chunk = new Uint8Array(chunk);
          chunk[afterBytes - sent]! ^= 0xff;
          afterBytes = Infinity;
        } else {
          const head = chunk.subarray(0, afterBytes - sent);
          if (head.length) c.enqueue(head);
          seen.bytesOut += head.length;
          await reader.cancel();
          // let what was sent reach the client first: a reset discards bytes the client has not read
          // yet, so on a busy machine a "cut after N bytes" could arrive as a cut after 0
          await Bun.sleep(50);
          // both end the connection before the promised length: the client sees a broken body
          return c.error(new Error(`injected ${how}`));
        }
      }
      sent += chunk.length;
      seen.bytesOut += chunk.length;
      c.enqueue(chunk);
    },
    cancel: (r) => reader.cancel(r),
  });
}

export function startCountingProxy(upstream: string, opts: CountingProxyOptions = {}): CountingProxy {
  const upstreamUrl = new URL(upstream.includes("://") ? upstream : `http://${upstream}`);
  let fault = opts.fault;
  let requests: SeenRequest[] = [];
  let total = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    // injected resets error a response stream on purpose: keep Bun from reporting them as crashes
    error: () => new Response(null, { status: 500 }),
    async fetch(req) {
      const url = new URL(req.url);
      const h = req.headers;
      const seen: SeenRequest = {
        n: ++total,
        at: performance.now(),
        method: req.method,
        pattern: `${req.method} ${pathPattern(url.pathname)}`,
        path: url.pathname,
        search: url.search,
        headers: {
          contentLength: h.get("content-length") ?? undefined,
          transferEncoding: h.get("transfer-encoding") ?? undefined,
          contentRange: h.get("content-range") ?? undefined,
          contentType: h.get("content-type") ?? undefined,
          range: h.get("range") ?? undefined,
          authorization: h.has("authorization"),
        },
        bytesIn: 0,
        bytesOut: 0,
      };
      requests.push(seen);
      const action = fault?.(seen, seen.n);
      if (action?.kind === "stall") await Bun.sleep(action.ms);
      if (action?.kind === "status" || action?.kind === "reset-request") {
        const reader = req.body?.getReader();
        const limit = action.kind === "status" ? Infinity : (action.afterBytes ?? 0);
        while (reader && seen.bytesIn < limit) {
          const r = await reader.read();
          if (r.done) break;
          seen.bytesIn += r.value.length;
        }
        if (action.kind === "reset-request") {
          seen.status = 0;
          await reader?.cancel().catch(() => {});
          return new Response(new ReadableStream({ pull: (c) => c.error(new Error("injected reset")) }));
        }
        seen.status = action.status;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (action.retryAfter !== undefined) headers["retry-after"] = String(action.retryAfter);
        return new Response(JSON.stringify({ errors: [{ code: "UNAVAILABLE", message: "injected by the test proxy" }] }), { status: action.status, headers });
      }
      const fwd = new Headers(h);
      fwd.delete("host");
      if (action?.kind === "ignore-range") fwd.delete("range");
      // count request bytes as they pass without buffering the body
      const body = req.body?.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            seen.bytesIn += chunk.length;
            c.enqueue(chunk);
          },
        }),
      );
      const up = await fetch(`${upstreamUrl.origin}${url.pathname}${url.search}`, {
        method: req.method,
        headers: fwd,
        body,
        redirect: "manual",
        decompress: false,
        duplex: "half",
        tls: { rejectUnauthorized: false },
      } as RequestInit);
      seen.status = up.status;
      const out = new Headers(up.headers);
      const loc = out.get("location");
      // keep the client on the proxy: absolute upload Locations name the upstream
      if (loc?.startsWith(upstreamUrl.origin)) out.set("location", `http://127.0.0.1:${server.port}${loc.slice(upstreamUrl.origin.length)}`);
      seen.location = out.get("location") ?? undefined;
      if (!up.body || req.method === "HEAD") return new Response(up.body, { status: up.status, headers: out });
      const how = action?.kind === "reset" || action?.kind === "truncate" || action?.kind === "flip" ? action.kind : undefined;
      const at = action?.kind === "flip" ? action.at : action && "afterBytes" in action ? (action.afterBytes ?? 0) : Infinity;
      return new Response(broken(how ? at : Infinity, up.body, seen, how ?? "flip"), { status: up.status, headers: out });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    url: `http://127.0.0.1:${server.port}`,
    get requests() {
      return requests;
    },
    counts() {
      const c: Record<string, number> = {};
      for (const r of requests) c[r.pattern] = (c[r.pattern] ?? 0) + 1;
      return c;
    },
    reset() {
      requests = [];
    },
    setFault(f) {
      fault = f;
    },
    stop: () => server.stop(true),
  };
}
