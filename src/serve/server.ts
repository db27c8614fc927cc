import { ImgxError, q } from "../core/errors.ts";
import { BlobInfoCache } from "../copy/blob-info-cache.ts";
import { WorkerPools } from "../copy/worker-pool.ts";
import type { RegistryOptions } from "../transports/types.ts";
import { ASSETS } from "./assets.ts";
import { catalog, deleteTag, image, tags } from "./browse.ts";
import { errorResponse, json } from "./http.ts";
import { Gate, SECURITY_HEADERS, type PageAuth } from "./security.ts";
import { Targets } from "./target.ts";
import { Uploads } from "./uploads.ts";

export interface ServeOptions {
  hostname: string;
  port: number;
  registries: string[];
  registry: RegistryOptions;
  auth?: PageAuth;
  tlsCert?: string;
  tlsKey?: string;
  /** Largest file (and layer) the page may upload, in bytes; 0 = no limit. */
  maxUploadSize: number;
  allowDelete: boolean;
  /** Chunk size the page uses (≤ 64 MiB: Bun.serve caps request bodies). */
  chunkSize: number;
}

export const MAX_CHUNK = 64 * 1024 * 1024;

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export function startServer(o: ServeOptions): RunningServer {
  if (o.chunkSize <= 0 || o.chunkSize > MAX_CHUNK) throw new ImgxError("USAGE", `Cannot use a chunk size of ${o.chunkSize} bytes: it must be between 1 byte and 64 MiB`);
  if (!!o.tlsCert !== !!o.tlsKey) throw new ImgxError("USAGE", "Cannot serve TLS: pass both --tls-cert and --tls-key");
  const targets = new Targets(o.registries, o.registry);
  const gate = new Gate(o.auth);
  // gzip worker threads belong to the server: created on the first layer, ended on stop
  const pools = new WorkerPools();
  const uploads = new Uploads(targets, new BlobInfoCache(), o.maxUploadSize, pools);
  // bound to loopback, only loopback names may appear in Host: a web page that re-points its own
  // DNS name at 127.0.0.1 (DNS rebinding) would otherwise be same-origin with us and read the token
  const loopbackOnly = ["127.0.0.1", "localhost", "::1"].includes(o.hostname);
  const config = { csrf: gate.csrf, registries: targets.hosts, allowDelete: o.allowDelete, maxUploadSize: o.maxUploadSize, chunkSize: o.chunkSize };

  async function route(req: Request, path: string): Promise<Response> {
    const m = req.method;
    if (m === "GET" || m === "HEAD") {
      const asset = ASSETS[path];
      if (asset) return new Response(asset.body, { headers: { ...SECURITY_HEADERS, "content-type": asset.type } });
      if (path === "/api/config") return json(config);
      if (path === "/favicon.ico") return new Response(null, { status: 204 });
      if (path === "/api/stats") return json({ receivedBytes: uploads.receivedBytes, cutChunks: uploads.cutChunks });
      if (path === "/api/catalog") return catalog(req, targets);
      if (path === "/api/tags") return tags(req, targets);
      if (path === "/api/image") return image(req, targets);
      const s = /^\/api\/uploads\/([\w-]+)$/.exec(path);
      if (s) return uploads.status(s[1]!);
      return json({ error: `No such page: ${path}` }, 404);
    }
    if (!gate.csrfOk(req)) {
      await req.body?.cancel().catch(() => {});
      return json({ error: "Missing or wrong CSRF token: reload the page", code: "DENIED" }, 403);
    }
    if (m === "POST" && path === "/api/check") return uploads.check(req);
    if (m === "POST" && path === "/api/uploads") return uploads.create(req);
    if (m === "POST" && path === "/api/commit") return uploads.commit(req);
    if (m === "POST" && path === "/api/commit-index") return uploads.commitIndex(req);
    if (m === "DELETE" && path === "/api/tag") {
      if (!o.allowDelete) return json({ error: "Deleting tags is off: start imgx serve with --allow-delete", code: "DENIED" }, 403);
      return deleteTag(req, targets);
    }
    let s = /^\/api\/uploads\/([\w-]+)$/.exec(path);
    if (s && m === "PUT") return uploads.chunk(s[1]!, req);
    if (s && m === "DELETE") return uploads.drop(s[1]!);
    s = /^\/api\/uploads\/([\w-]+)\/finish$/.exec(path);
    if (s && m === "POST") return uploads.finish(s[1]!, req);
    await req.body?.cancel().catch(() => {});
    return json({ error: `${m} ${path} is not part of the API` }, 405);
  }

  const server = Bun.serve({
    hostname: o.hostname,
    port: o.port,
    // a chunk is at most 64 MiB; leave room for nothing else (JSON bodies are small)
    maxRequestBodySize: MAX_CHUNK,
    // a chunk on a slow link takes a while; Bun's default 10 s idle timeout would cut it
    idleTimeout: 120,
    tls: o.tlsCert ? { cert: Bun.file(o.tlsCert), key: Bun.file(o.tlsKey!) } : undefined,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (loopbackOnly && !isLoopbackHostHeader(req.headers.get("host"))) {
        await req.body?.cancel().catch(() => {});
        return json({ error: "This server answers only to 127.0.0.1, localhost and [::1] (start it with --listen to serve other names)" }, 421);
      }
      try {
        if (!(await gate.allows(req.headers.get("authorization")))) {
          await req.body?.cancel().catch(() => {});
          return new Response("Authentication required\n", { status: 401, headers: { ...SECURITY_HEADERS, "www-authenticate": 'Basic realm="imgx serve", charset="UTF-8"' } });
        }
        return await route(req, path);
      } catch (e) {
        await req.body?.cancel().catch(() => {});
        return errorResponse(e);
      }
    },
    error(e) {
      return errorResponse(e);
    },
  });
  const host = o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname;
  return {
    url: `${o.tlsCert ? "https" : "http"}://${host}:${server.port}/`,
    async stop() {
      await server.stop(true);
      await uploads.close();
      targets.close();
      pools.close();
    },
  };
}

function isLoopbackHostHeader(host: string | null): boolean {
  const name = (host ?? "").replace(/:\d+$/, "").toLowerCase();
  return name === "127.0.0.1" || name === "localhost" || name === "[::1]";
}

export function describeListen(v: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]*))(?::(\d{1,5}))?$/.exec(v.trim());
  if (!m) throw new ImgxError("USAGE", `Cannot use --listen ${q(v)}: expected HOST:PORT, e.g. 127.0.0.1:8080`);
  const port = m[3] === undefined ? 8080 : Number(m[3]);
  if (port > 65535) throw new ImgxError("USAGE", `Cannot use --listen ${q(v)}: port ${port} is over 65535`);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}
