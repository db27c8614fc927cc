// One request of an operation: sent through the registry client, its body read (discarded,
// hashed or kept), its outcome judged against the statuses the protocol step expects, and the
// observation recorded. The first request of an operation carries the operation's lateness, so in
// the open model its latency counts from the intended send time.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Digest } from "../core/digest.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import type { RequestObservation } from "../transports/registry/observe.ts";
import type { RegistryOptions } from "../transports/registry/options.ts";
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
  readonly client: RegistryClient;
  /** Which operation a request belongs to, for the client's observer (which hears of token fetches too). */
  private readonly current = new AsyncLocalStorage<OpState>();

  constructor(registry: string, opts: RegistryOptions, readonly phase: Phase) {
    this.client = new RegistryClients({ ...opts, observer: (o) => this.observe(o) }).get(registry);
  }

  /** Every request the client sends (each retry, each token fetch) lands here exactly once. */
  private observe(o: RequestObservation): void {
    const op = this.current.getStore();
    if (!op) return this.phase.rec.request(o, 0);
    const late = op.late;
    op.late = 0;
    op.rec.request(o, late);
  }

  send(op: OpState, endpoint: string, path: string, init: SendInit): Promise<Sent> {
    return this.current.run(op, () => this.sendIn(op, endpoint, path, init));
  }

  private async sendIn(op: OpState, endpoint: string, path: string, init: SendInit): Promise<Sent> {
    const rec = op.rec;
    let res: Response;
    try {
      res = await this.client.fetch(path, { method: init.method, headers: init.headers, body: init.body, repo: init.repo, actions: init.actions as ("pull" | "push")[], signal: op.signal });
    } catch (e) {
      rec.requestFailed(endpoint);
      throw e;
    }
    let size = 0;
    let bytes: Uint8Array | undefined;
    let digest: Digest | undefined;
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
      rec.requestFailed(endpoint);
      throw e;
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
