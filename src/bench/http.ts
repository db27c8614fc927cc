// One request of an operation: sent through the registry client, its body read (discarded,
// hashed or kept), its outcome judged against the statuses the protocol step expects, and the
// observation recorded. The first request of an operation carries the operation's lateness, so in
// the open model its latency counts from the intended send time.
import type { Digest } from "../core/digest.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import type { Recorder } from "./recorder.ts";
import type { Phase } from "./scheduler.ts";

export interface OpState {
  rec: Recorder;
  signal?: AbortSignal;
  /** Lateness not yet charged to a request; the first request takes it. */
  late: number;
}

export interface SendInit {
  method: string;
  headers?: Record<string, string>;
  body?: Uint8Array | ReadableStream<Uint8Array> | string;
  /** Bytes the body holds (for the byte count when it is a stream). */
  bodySize?: number;
  repo: string;
  actions: ("pull" | "push" | "delete")[];
  expect: number[];
  read?: "discard" | "bytes" | "sha256";
}

export interface Sent {
  status: number;
  headers: Headers;
  bytes?: Uint8Array;
  digest?: Digest;
  size: number;
}

export class BenchHttp {
  constructor(readonly client: RegistryClient, readonly phase: Phase) {}

  async send(op: OpState, endpoint: string, path: string, init: SendInit): Promise<Sent> {
    const late = op.late;
    op.late = 0;
    const rec = op.rec;
    const start = performance.now();
    const sentBytes = init.bodySize ?? (typeof init.body === "string" ? Buffer.byteLength(init.body) : init.body instanceof Uint8Array ? init.body.byteLength : 0);
    let res: Response;
    try {
      res = await this.client.fetch(path, { method: init.method, headers: init.headers, body: init.body, repo: init.repo, actions: init.actions as ("pull" | "push")[], signal: op.signal });
    } catch (e) {
      const t = performance.now() - start;
      rec.request({ endpoint, status: 0, error: (e as Error).message, bytesSent: 0, bytesReceived: 0, start, ttfbMs: t, totalMs: t }, late);
      rec.requestFailed(endpoint);
      throw e;
    }
    const ttfb = performance.now() - start;
    let size = 0;
    let bytes: Uint8Array | undefined;
    let digest: Digest | undefined;
    let readError: unknown;
    try {
      if (!res.body || init.method === "HEAD") size = 0;
      else if (init.read === "bytes" || !init.expect.includes(res.status)) {
        bytes = await res.bytes();
        size = bytes.byteLength;
      } else if (init.read === "sha256") {
        const h = new Bun.CryptoHasher("sha256");
        for await (const c of res.body) {
          h.update(c);
          size += c.byteLength;
        }
        digest = `sha256:${h.digest("hex")}`;
      } else for await (const c of res.body) size += c.byteLength;
    } catch (e) {
      readError = e;
    }
    const total = performance.now() - start;
    rec.request({ endpoint, status: readError ? 0 : res.status, bytesSent: sentBytes, bytesReceived: size, start, ttfbMs: ttfb, totalMs: total }, late);
    if (readError) {
      rec.requestFailed(endpoint);
      throw readError;
    }
    if (!init.expect.includes(res.status)) {
      rec.requestFailed(endpoint);
      throw new Error(`${endpoint} ${path.replace(/\?.*/, "")}: HTTP ${res.status}${errorCode(bytes)}`);
    }
    return { status: res.status, headers: res.headers, bytes, digest, size };
  }
}

/** The registry's own error code from an error body, e.g. " (BLOB_UNKNOWN)". */
function errorCode(bytes: Uint8Array | undefined): string {
  if (!bytes?.byteLength || bytes.byteLength > 65536) return "";
  try {
    const code = (JSON.parse(new TextDecoder().decode(bytes)) as { errors?: { code?: string }[] }).errors?.[0]?.code;
    return code ? ` (${code})` : "";
  } catch {
    return "";
  }
}
