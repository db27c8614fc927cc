import { randomUUID } from "node:crypto";
import type { Digest } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import { parallelGzipStream } from "../copy/gzip-blocks.ts";
import type { WorkerPools } from "../copy/worker-pool.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { registryError } from "../transports/registry/errors.ts";
import { startUpload, withParam } from "../transports/registry/upload.ts";

export interface LayerSpec {
  registry: string;
  repo: string;
  /** sha256 of the bytes the page sends: the layer's diff_id, or the blob digest of an already-compressed layer. */
  expect: Digest;
  size: number;
  /** gzip the bytes on the way (uncompressed layers, like imgx push); false sends them as they are. */
  gzip: boolean;
}

export interface StoredBlob {
  digest: Digest;
  size: number;
}

/**
 * One layer on its way from the page to a registry upload session. Each chunk the page PUTs is
 * hashed (the bytes as sent) and gzipped in independent 1 MiB members, and streamed into one PATCH
 * while it arrives: nothing is staged. When the page's connection drops mid-chunk, the bytes that
 * did arrive still end the PATCH cleanly (a gzip member may hold any number of bytes), so the
 * session's offset is exactly what the registry holds and the page resumes there. A failed PATCH
 * leaves the registry's copy unknown: the session is then dead and the page starts the layer over.
 */
export class LayerSession {
  readonly id = randomUUID();
  offset = 0;
  stored?: StoredBlob;
  dead?: string;
  busy = false;
  touched = Date.now();
  /** Bytes received from the page for this layer (counting resent ones), for /api/stats. */
  received = 0;
  /** Chunks whose connection dropped before their announced length (kept up to where they stopped). */
  cutChunks = 0;
  private location = "";
  private raw = new Bun.CryptoHasher("sha256");
  private packed = new Bun.CryptoHasher("sha256");
  private packedSize = 0;

  constructor(
    readonly spec: LayerSpec,
    private readonly client: RegistryClient,
    /** The server's gzip workers, shared by every layer (one thread per core, not per chunk). */
    private readonly pools: WorkerPools,
  ) {}

  get subject(): string {
    return `${this.spec.registry}/${this.spec.repo}`;
  }

  async open(): Promise<void> {
    this.location = (await startUpload(this.client, this.spec.repo)).location;
  }

  /** Streams one chunk (bytes [offset, offset+length) of the layer) into the registry. Returns the new offset. */
  async write(body: ReadableStream<Uint8Array> | null, offset: number, length: number): Promise<number> {
    if (this.stored) throw new ImgxError("DEST_EXISTS", `Layer ${q(this.spec.expect)} is already stored`);
    if (this.dead) throw new ImgxError("REGISTRY", `Upload of layer ${q(this.spec.expect)} failed earlier (${this.dead}): start it again`);
    if (this.busy) throw new ImgxError("LOCKED", `Layer ${q(this.spec.expect)} is receiving another chunk`);
    if (offset !== this.offset) throw new ImgxError("SIZE_MISMATCH", `Chunk starts at byte ${offset}, but the server holds ${this.offset} bytes of layer ${q(this.spec.expect)}`);
    if (!Number.isSafeInteger(length) || length <= 0 || offset + length > this.spec.size)
      throw new ImgxError("SIZE_MISMATCH", `Chunk of ${length} bytes at ${offset} does not fit layer ${q(this.spec.expect)} of ${this.spec.size} bytes`);
    if (!body) throw new ImgxError("SIZE_MISMATCH", "Chunk has no body");
    this.busy = true;
    this.touched = Date.now();
    const reader = body.getReader();
    try {
      // the first bytes decide whether a PATCH is worth opening (a cut before any byte arrived is a no-op)
      const first = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (first.done || !first.value?.length) return this.offset;
      let got = 0;
      let overflow = false;
      let cut = false;
      const raw = this.raw;
      const source = new ReadableStream<Uint8Array>({
        start: (c) => {
          got += first.value!.length;
          raw.update(first.value!);
          c.enqueue(first.value!);
        },
        pull: async (c) => {
          let r: { done: boolean; value?: Uint8Array };
          try {
            r = await reader.read();
          } catch {
            // the page went away mid-chunk: what arrived is still good, end here
            cut = true;
            return c.close();
          }
          if (r.done) return c.close();
          let v = r.value!;
          if (got + v.length > length) {
            // more than announced: keep the announced bytes only and refuse the chunk afterwards
            overflow = true;
            v = v.subarray(0, length - got);
            await reader.cancel().catch(() => {});
          }
          got += v.length;
          raw.update(v);
          c.enqueue(v);
          if (overflow) c.close();
        },
      });
      const packed = this.packed;
      let packedBytes = 0;
      const counted = (this.spec.gzip ? source.pipeThrough(parallelGzipStream(undefined, this.pools)) : source).pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            packed.update(chunk);
            packedBytes += chunk.length;
            c.enqueue(chunk);
          },
        }),
      );
      let res: Response;
      try {
        res = await this.client.fetch(this.location, { method: "PATCH", headers: { "content-type": "application/octet-stream" }, body: counted, repo: this.spec.repo, actions: ["pull", "push"], idempotent: false });
      } catch (e) {
        throw this.kill(e);
      }
      if (res.status !== 202) throw this.kill(await registryError(res, "upload a chunk to", this.subject));
      await res.body?.cancel();
      const next = res.headers.get("location");
      if (next) this.location = await this.client.resolveUrl(next);
      this.offset += got;
      this.received += got;
      this.packedSize += packedBytes;
      if (overflow) throw new ImgxError("SIZE_MISMATCH", `Chunk at ${offset} carried more than its announced ${length} bytes; the server kept ${length}`);
      if (cut || got < length) this.cutChunks++;
      return this.offset;
    } finally {
      this.busy = false;
      this.touched = Date.now();
    }
  }

  /**
   * Commits the blob after checking the bytes received hash to what the image says (diff_id or blob
   * digest) and to what the page hashed while sending. A mismatch deletes the registry's upload.
   */
  async finish(pageDigest: string | undefined): Promise<StoredBlob> {
    if (this.stored) return this.stored;
    if (this.dead) throw new ImgxError("REGISTRY", `Upload of layer ${q(this.spec.expect)} failed earlier (${this.dead}): start it again`);
    if (this.offset !== this.spec.size) throw new ImgxError("SIZE_MISMATCH", `Layer ${q(this.spec.expect)} is incomplete: ${this.offset} of ${this.spec.size} bytes received`);
    const got = `sha256:${this.raw.copy().digest("hex")}` as Digest;
    if (got !== this.spec.expect || (pageDigest !== undefined && pageDigest !== got)) {
      const why = got !== this.spec.expect ? `the image says ${q(this.spec.expect)}` : `the page hashed ${q(pageDigest)}`;
      throw this.kill(new ImgxError("DIGEST_MISMATCH", `Layer bytes hash to ${q(got)} but ${why}: nothing was committed`));
    }
    const digest = `sha256:${this.packed.copy().digest("hex")}` as Digest;
    const res = await this.client.fetch(withParam(this.location, "digest", digest), { method: "PUT", headers: { "content-length": "0" }, repo: this.spec.repo, actions: ["pull", "push"], idempotent: false });
    if (res.status !== 201) throw this.kill(await registryError(res, "commit a layer to", this.subject));
    await res.body?.cancel();
    this.location = "";
    this.stored = { digest, size: this.packedSize };
    return this.stored;
  }

  /** Marks the session dead and deletes the registry's upload (its content is unknown or wrong). */
  kill<E>(e: E): E {
    this.dead = e instanceof Error ? e.message : String(e);
    void this.cancel();
    return e;
  }

  /** Deletes the registry's unfinished upload (failures ignored: registries expire them anyway). */
  cancel(): Promise<void> {
    const loc = this.location;
    this.location = "";
    if (!loc) return Promise.resolve();
    return this.client
      .fetch(loc, { method: "DELETE", repo: this.spec.repo, actions: ["pull", "push"] })
      .then((r) => r.body?.cancel())
      .catch(() => {});
  }
}
