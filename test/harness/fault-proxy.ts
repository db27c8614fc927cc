// A fault-injecting reverse proxy on loopback in front of a real registry. By seed it resets
// connections part-way through bodies, answers 500/502/503/429 (with Retry-After), stalls,
// truncates and flips bytes; it counts what it injected and the bytes it served.

export type FaultKind = "status" | "reset" | "truncate" | "flip" | "stall" | "upload-500";

export interface FaultProxyOptions {
  seed?: number;
  rate?: number;
  kinds?: FaultKind[];
  stallMs?: number;
  /** Bytes per second for response bodies (0 = unlimited). */
  throttle?: number;
  /** Answer the n-th PATCH (1-based, counted from now) with 500 without forwarding it, once. */
  failPatch?: number;
}

export interface FaultProxy {
  host: string;
  stats: { requests: number; faults: Record<string, number>; blobBytes: number };
  set(opts: Partial<FaultProxyOptions>): void;
  stop(): void;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export function startFaultProxy(upstreamHost: string, initial: FaultProxyOptions = {}): FaultProxy {
  const opts: Required<FaultProxyOptions> = { seed: 1, rate: 0, kinds: ["status", "reset", "truncate", "flip", "stall", "upload-500"], stallMs: 3000, throttle: 0, failPatch: 0, ...initial };
  let patches = 0;
  let rand = rng(opts.seed);
  const stats = { requests: 0, faults: {} as Record<string, number>, blobBytes: 0 };
  const count = (k: string) => (stats.faults[k] = (stats.faults[k] ?? 0) + 1);

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(req) {
      stats.requests++;
      const url = new URL(req.url);
      const isBlobGet = req.method === "GET" && /\/blobs\/sha256:/.test(url.pathname);
      const isUpload = /\/blobs\/uploads\//.test(url.pathname) && req.method !== "GET";
      if (req.method === "PATCH" && opts.failPatch > 0 && ++patches === opts.failPatch) {
        opts.failPatch = 0;
        count("upload-500");
        await req.body?.cancel();
        return new Response('{"errors":[{"code":"UNKNOWN","message":"injected"}]}', { status: 500 });
      }
      let fault: FaultKind | undefined;
      if (url.pathname !== "/v2/" && rand() < opts.rate) {
        const usable = opts.kinds.filter((k) => (k === "upload-500" ? isUpload : k === "status" ? !isUpload : isBlobGet));
        fault = usable.length ? usable[Math.floor(rand() * usable.length)] : undefined;
      }
      if (fault === "status") {
        count("status");
        const status = [500, 502, 503, 429][Math.floor(rand() * 4)]!;
        return new Response('{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}', { status, headers: status === 429 ? { "retry-after": "1" } : {} });
      }
      if (fault === "upload-500") {
        count("upload-500");
        await req.body?.cancel();
        return new Response('{"errors":[{"code":"UNKNOWN","message":"injected"}]}', { status: 500 });
      }
      const headers = new Headers(req.headers);
      headers.delete("host");
      const up = await fetch(`http://${upstreamHost}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body: req.body,
        redirect: "manual",
        decompress: false,
        duplex: "half",
      } as RequestInit);
      const out = new Headers(up.headers);
      const loc = out.get("location");
      if (loc) out.set("location", loc.replace(`http://${upstreamHost}`, `http://${server.hostname}:${server.port}`));
      if (!up.body || req.method === "HEAD") return new Response(up.body, { status: up.status, headers: out });
      const size = Number(up.headers.get("content-length") ?? 0);
      const cut = Math.floor(rand() * Math.max(1, size));
      if (fault) count(fault);
      let sent = 0;
      const reader = up.body.getReader();
      const started = performance.now();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const r = await reader.read();
          if (r.done) return c.close();
          let chunk = r.value;
          if (fault && sent + chunk.length > cut) {
            if (fault === "reset") {
              await reader.cancel();
              return c.error(new Error("injected reset"));
            }
            if (fault === "truncate") {
              c.enqueue(chunk.subarray(0, cut - sent));
              await reader.cancel();
              return c.error(new Error("injected truncation"));
            }
            if (fault === "flip") {
              chunk = new Uint8Array(chunk);
              chunk[cut - sent] ^= 0xff;
              fault = undefined;
            } else if (fault === "stall") {
              fault = undefined;
              await Bun.sleep(opts.stallMs);
            }
          }
          sent += chunk.length;
          if (isBlobGet) stats.blobBytes += chunk.length;
          if (opts.throttle > 0) {
            const ahead = (sent / opts.throttle) * 1000 - (performance.now() - started);
            if (ahead > 0) await Bun.sleep(ahead);
          }
          c.enqueue(chunk);
        },
        cancel: (r) => reader.cancel(r),
      });
      return new Response(body, { status: up.status, headers: out });
    },
  });
  return {
    host: `127.0.0.1:${server.port}`,
    stats,
    set(o) {
      Object.assign(opts, o);
      if (o.seed !== undefined) rand = rng(o.seed);
      if (o.failPatch !== undefined) patches = 0;
    },
    stop: () => server.stop(true),
  };
}
