import type { Digest } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import type { Family } from "../core/media-types.ts";
import type { Platform } from "../core/platform.ts";
import type { BlobInfoCache } from "../copy/blob-info-cache.ts";
import type { WorkerPools } from "../copy/worker-pool.ts";
import { commitImage, headBlob, isDigest, verifiedLookup, type CommitLayer } from "./commit.ts";
import { commitIndex } from "./commit-index.ts";
import { json, readJson } from "./http.ts";
import { LayerSession } from "./layer-session.ts";
import type { Targets } from "./target.ts";

/** Sessions nobody touched for this long are dropped (the registry expires its side too). */
const IDLE_MS = 3600_000;

interface RawImage {
  config?: unknown;
  layers?: unknown;
}

function family(v: unknown, field: string): Family {
  if (v !== "docker" && v !== "oci") throw new ImgxError("USAGE", `${field} must be docker or oci`);
  return v;
}

/** One image as the page sends it: config (base64) and layers as the server stored them. */
function imageOf(b: RawImage): { config: Uint8Array; layers: CommitLayer[] } {
  if (typeof b.config !== "string" || !Array.isArray(b.layers)) throw new ImgxError("USAGE", "Expected config (base64) and layers");
  for (const l of b.layers) if (l?.compression !== "gzip" && l?.compression !== "zstd") throw new ImgxError("USAGE", "Layer compression must be gzip or zstd");
  return { config: Buffer.from(b.config, "base64"), layers: b.layers as CommitLayer[] };
}

interface LayerAsk {
  expect: string;
  size: number;
  gzip: boolean;
}

/**
 * The upload half of the API: which layers the registry has, one session per layer being sent,
 * chunks into it, verified finish, and the final manifest. Sessions live in memory with their
 * hasher state; the page keeps its own progress and finds a session again by what it uploads.
 */
export class Uploads {
  private readonly sessions = new Map<string, LayerSession>();
  private readonly gzipped = new Map<string, { digest: Digest; size: number }>();
  /** Bytes of layer data received from pages (resent bytes count twice): tests read it from /api/stats. */
  receivedBytes = 0;
  cutChunks = 0;

  constructor(
    private readonly targets: Targets,
    private readonly cache: BlobInfoCache,
    private readonly maxUpload: number,
    private readonly pools: WorkerPools,
  ) {}

  private find(id: string): LayerSession {
    const s = this.sessions.get(id);
    if (!s) throw new ImgxError("NOT_FOUND", `Upload session ${q(id)} is unknown (the server restarted or it expired): start the layer again`);
    return s;
  }

  private validLayer(l: LayerAsk, i: number): LayerAsk {
    if (!l || !isDigest(l.expect)) throw new ImgxError("USAGE", `Layer ${i + 1}: expected a sha256 digest`);
    if (!Number.isSafeInteger(l.size) || l.size < 0) throw new ImgxError("USAGE", `Layer ${i + 1}: size must be a non-negative integer`);
    if (this.maxUpload && l.size > this.maxUpload) throw new ImgxError("USAGE", `Layer ${i + 1} of ${l.size} bytes is over this server's --max-upload-size of ${this.maxUpload} bytes`);
    return { expect: l.expect, size: l.size, gzip: l.gzip !== false };
  }

  /** POST /api/check {reference, fileSize, layers}: per layer, present in the registry or an open session to resume. */
  async check(req: Request): Promise<Response> {
    const body = await readJson<{ reference: string; fileSize: number; layers: LayerAsk[] }>(req);
    const ref = this.targets.resolve(body.reference);
    if (this.maxUpload && Number(body.fileSize) > this.maxUpload)
      throw new ImgxError("USAGE", `The file of ${body.fileSize} bytes is over this server's --max-upload-size of ${this.maxUpload} bytes`);
    if (!Array.isArray(body.layers) || body.layers.length > 1000) throw new ImgxError("USAGE", "Expected a list of layers");
    const client = this.targets.client(ref.registry);
    const known = verifiedLookup(this.gzipped, this.cache);
    const out = [];
    for (const [i, raw] of body.layers.entries()) {
      const l = this.validLayer(raw, i);
      const blob = l.gzip ? known(l.expect as Digest) : { digest: l.expect as Digest, size: l.size };
      const have = blob ? await headBlob(client, ref.repository, blob.digest) : undefined;
      if (blob && have !== undefined && (have < 0 || have === blob.size)) {
        out.push({ present: true, digest: blob.digest, size: blob.size });
        continue;
      }
      const s = this.live(ref.registry, ref.repository, l);
      out.push({ present: false, session: s?.id, offset: s?.offset ?? 0 });
    }
    return json({ target: `${ref.registry}/${ref.repository}:${ref.tag}`, layers: out });
  }

  private live(registry: string, repo: string, l: LayerAsk): LayerSession | undefined {
    for (const s of this.sessions.values())
      if (!s.dead && !s.stored && s.spec.registry === registry && s.spec.repo === repo && s.spec.expect === l.expect && s.spec.size === l.size && s.spec.gzip === l.gzip) return s;
    return undefined;
  }

  /** POST /api/uploads {reference, expect, size, gzip}: opens (or finds) the session for one layer. */
  async create(req: Request): Promise<Response> {
    const body = await readJson<LayerAsk & { reference: string }>(req);
    const ref = this.targets.resolve(body.reference);
    const l = this.validLayer(body, 0);
    this.sweep();
    const existing = this.live(ref.registry, ref.repository, l);
    if (existing) return json({ id: existing.id, offset: existing.offset });
    const s = new LayerSession({ registry: ref.registry, repo: ref.repository, expect: l.expect as Digest, size: l.size, gzip: l.gzip }, this.targets.client(ref.registry), this.pools);
    await s.open();
    this.sessions.set(s.id, s);
    return json({ id: s.id, offset: 0 }, 201);
  }

  /** GET /api/uploads/:id: how many bytes the server holds (the page resumes there). */
  status(id: string): Response {
    const s = this.find(id);
    return json({ id, offset: s.offset, size: s.spec.size, dead: s.dead, stored: s.stored });
  }

  /** PUT /api/uploads/:id?offset=N with the chunk as body (Content-Length required). */
  async chunk(id: string, req: Request): Promise<Response> {
    const s = this.find(id);
    const offset = Number(new URL(req.url).searchParams.get("offset"));
    const length = Number(req.headers.get("content-length"));
    if (!req.headers.get("content-length") || !Number.isSafeInteger(length)) throw new ImgxError("USAGE", "A chunk needs a Content-Length");
    if (offset !== s.offset || s.busy) {
      await req.body?.cancel().catch(() => {});
      return json({ error: `The server holds ${s.offset} bytes of this layer; send from there`, offset: s.offset }, 409);
    }
    const before = [s.received, s.cutChunks];
    try {
      const now = await s.write(req.body, offset, length);
      return json({ offset: now });
    } finally {
      this.receivedBytes += s.received - before[0]!;
      this.cutChunks += s.cutChunks - before[1]!;
    }
  }

  /** POST /api/uploads/:id/finish {digest}: verify and commit the blob. */
  async finish(id: string, req: Request): Promise<Response> {
    const s = this.find(id);
    const body = await readJson<{ digest?: string }>(req);
    const stored = await s.finish(body.digest);
    if (s.spec.gzip) {
      this.gzipped.set(s.spec.expect, stored);
      this.cache.set(s.spec.expect, "gzip", stored);
      await this.cache.save();
    }
    return json(stored);
  }

  /** DELETE /api/uploads/:id: give a layer up (the registry's upload is deleted). */
  async drop(id: string): Promise<Response> {
    const s = this.find(id);
    await s.cancel();
    this.sessions.delete(id);
    return json({ dropped: id });
  }

  /** POST /api/commit {reference, config (base64), format, layers}: the tag, after every check. */
  async commit(req: Request): Promise<Response> {
    const body = await readJson<{ reference: string; format: string } & RawImage>(req);
    const ref = this.targets.resolve(body.reference);
    const format = family(body.format, "format");
    const client = this.targets.client(ref.registry);
    const out = await commitImage(client, ref.repository, ref.tag, { ...imageOf(body), format }, verifiedLookup(this.gzipped, this.cache));
    this.forget(ref.registry, ref.repository);
    const name = `${ref.registry}/${ref.repository}`;
    return json({ reference: `${name}:${ref.tag}`, digest: out.digest, pull: [`docker pull ${name}:${ref.tag}`, `imgx pull ${name}@${out.digest}`] });
  }

  /**
   * POST /api/commit-index {reference, form, manifests: [{platform, config, layers}]}: every platform's
   * manifest by digest, then the index under the tag (see commitIndex).
   */
  async commitIndex(req: Request): Promise<Response> {
    const body = await readJson<{ reference: string; form: string; manifests: (RawImage & { platform: unknown })[] }>(req);
    const ref = this.targets.resolve(body.reference);
    const form = family(body.form, "form");
    if (!Array.isArray(body.manifests)) throw new ImgxError("USAGE", "Expected manifests: one {platform, config, layers} per platform");
    const manifests = body.manifests.map((m) => ({ platform: m?.platform as Platform, image: imageOf(m ?? {}) }));
    const client = this.targets.client(ref.registry);
    const out = await commitIndex(client, ref.repository, ref.tag, { form, manifests }, verifiedLookup(this.gzipped, this.cache));
    this.forget(ref.registry, ref.repository);
    const name = `${ref.registry}/${ref.repository}`;
    const pull = [`docker pull ${name}:${ref.tag}`, `imgx pull ${name}@${out.digest}`, ...out.manifests.map((m) => `imgx pull --platform ${m.platform} ${name}:${ref.tag}`)];
    return json({ reference: `${name}:${ref.tag}`, digest: out.digest, mediaType: out.mediaType, manifests: out.manifests, pull });
  }

  /** Committed: the sessions that fed this repository are done. */
  private forget(registry: string, repo: string): void {
    for (const [id, s] of this.sessions) if (s.stored && s.spec.registry === registry && s.spec.repo === repo) this.sessions.delete(id);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions)
      if (!s.busy && now - s.touched > IDLE_MS) {
        void s.cancel();
        this.sessions.delete(id);
      }
  }

  /** Deletes every unfinished registry upload (server shutdown). */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.cancel()));
  }
}
