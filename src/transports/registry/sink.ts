import { putManifestBytes } from "./manifest-put.ts";
import type { ImageName } from "../../core/reference.ts";
import { isImgxError, isIntegrityError } from "../../core/errors.ts";
import type { Digest } from "../../core/digest.ts";
import { parseManifestBytes, type Descriptor } from "../../core/manifest.ts";
import { referrerDescriptor } from "../../core/referrers.ts";
import type { DockerReference } from "../../core/reference.ts";
import type { BlobInput, ImageSink, RegistryOptions, SinkCaps } from "../types.ts";
import { RegistryClient, registryError } from "./client.ts";
import { addToReferrersTag } from "./referrers.ts";
import { dropSession, uploadBlob, type UploadHandle } from "./upload.ts";
import { UploadState } from "./upload-state.ts";

/** A registry repository as an ImageSink: HEAD before upload, cross-repo mounts, manifests after their blobs. */
export class RegistrySink implements ImageSink {
  readonly caps: SinkCaps;
  private readonly client: RegistryClient;
  private readonly repo: string;
  /** Upload sessions the registry still holds for us: in flight, or kept after a failure for a rerun to resume. */
  private readonly open = new Set<UploadHandle>();
  private readonly uploads = new UploadState();

  constructor(
    private readonly ref: DockerReference,
    private readonly opts: RegistryOptions,
    client = new RegistryClient(ref.registry, opts),
  ) {
    this.client = client;
    this.repo = ref.repository;
    this.caps = { maxConcurrentWrites: opts.concurrency || 6, remote: true, acceptsIndex: true, needsKnownSize: false, multiImage: false, referrers: true };
  }

  get label(): string {
    return `docker://${this.ref.registry}/${this.repo}`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const res = await this.client.fetch(`/v2/${this.repo}/blobs/${desc.digest}`, { method: "HEAD", repo: this.repo, actions: ["pull", "push"] });
    await res.body?.cancel();
    if (res.status === 200) return Number(res.headers.get("content-length") ?? desc.size) === desc.size;
    if (res.status === 404) return false;
    if (res.status === 401 || res.status === 403) throw await registryError(res, "check blobs in", `${this.ref.registry}/${this.repo}`);
    return false;
  }

  async mountBlob(desc: Descriptor, from: { registry: string; repository: string }): Promise<boolean> {
    if (from.registry !== this.ref.registry || from.repository === this.repo) return false;
    const path = `/v2/${this.repo}/blobs/uploads/?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from.repository)}`;
    let res: Response;
    try {
      res = await this.client.fetch(path, {
        method: "POST",
        headers: { "content-length": "0" },
        repo: this.repo,
        actions: ["pull", "push"],
        extraScopes: [`repository:${from.repository}:pull`],
        idempotent: false,
      });
    } catch (e) {
      // a token server that won't grant pull on the source at all (403 on the token request) is
      // a refused mount like the registry's own 401/403: upload instead; real credential problems
      // surface on that upload, which asks only for this repository
      if (isImgxError(e, "UNAUTHORIZED") || isImgxError(e, "DENIED")) return false;
      throw e;
    }
    await res.body?.cancel();
    if (res.status === 201) return true;
    // 202 means the registry opened a normal upload instead: drop it and upload ourselves.
    const loc = res.headers.get("location");
    if (res.status === 202 && loc) await this.client.fetch(await this.client.resolveUrl(loc), { method: "DELETE", repo: this.repo, actions: ["pull", "push"] }).then((r) => r.body?.cancel()).catch(() => {});
    return false;
  }

  async putBlob(blob: BlobInput): Promise<void> {
    const handle: UploadHandle = { location: "", state: this.uploads };
    this.open.add(handle);
    try {
      await uploadBlob(this.client, this.repo, blob, this.opts, handle);
      // an earlier failed attempt at this blob was resumed and committed by this one
      for (const h of this.open) if (h !== handle && h.resumeKey && h.resumeKey === handle.resumeKey) this.open.delete(h);
    } finally {
      if (!handle.location) this.open.delete(handle);
    }
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, names: readonly ImageName[], top: boolean): Promise<void> {
    const refs = top && names.length ? [...new Set(names.map((n) => n.tag))] : [desc.digest];
    for (const r of refs) {
      const subject = `${this.ref.registry}/${this.repo}${r.startsWith("sha256:") ? "@" : ":"}${r}`;
      const headers = await putManifestBytes(this.client, this.repo, r, { mediaType: desc.mediaType, bytes, digest: desc.digest }, subject);
      // A registry with the referrers API confirms the artifact's subject with OCI-Subject; one
      // without it (distribution 2.8) needs the fallback tag updated, one writer per subject at a time.
      const refersTo = r === refs[0] ? subjectIn(bytes) : undefined;
      if (refersTo && !headers.get("oci-subject")) {
        const parsed = parseManifestBytes(bytes, `manifest ${subject}`, desc.mediaType);
        const prev = this.tagUpdates.get(refersTo) ?? Promise.resolve();
        const next = prev.catch(() => {}).then(() => addToReferrersTag(this.client, this.repo, refersTo, referrerDescriptor(desc, parsed)));
        this.tagUpdates.set(refersTo, next);
        await next;
      }
    }
  }

  /** Fallback-tag updates in flight, by subject digest (see putManifest). */
  private readonly tagUpdates = new Map<string, Promise<unknown>>();

  async commit(): Promise<void> {}

  /**
   * Deletes the upload sessions still open, so a failed push leaves no half-written uploads behind.
   * Exception: sessions recorded for resuming survive a network failure (the next run continues
   * them where the registry says they stand); after an integrity failure they go too.
   */
  async abort(cause?: unknown): Promise<void> {
    const keepResumable = cause !== undefined && !isIntegrityError(cause);
    const doomed = [...this.open].filter((h) => h.location && !(keepResumable && h.resumeKey));
    for (const h of doomed) this.open.delete(h);
    await Promise.all(doomed.map((h) => dropSession(this.client, this.repo, h).catch(() => {})));
  }
}

export async function openRegistrySink(ref: DockerReference, opts: RegistryOptions, client?: RegistryClient): Promise<ImageSink> {
  return new RegistrySink(ref, opts, client);
}

/** The subject digest of a manifest's bytes, read only when the bytes mention one (most don't). */
function subjectIn(bytes: Uint8Array): Digest | undefined {
  const text = new TextDecoder().decode(bytes);
  if (!text.includes('"subject"')) return undefined;
  try {
    const d = (JSON.parse(text) as { subject?: { digest?: unknown } }).subject?.digest;
    return typeof d === "string" && d.startsWith("sha256:") ? (d as Digest) : undefined;
  } catch {
    return undefined;
  }
}
