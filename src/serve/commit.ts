import { putManifestBytes } from "../transports/registry/manifest-put.ts";
import { sha256Bytes, type Digest } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import { MT, layerMediaType, manifestMediaType, type Family } from "../core/media-types.ts";
import type { BlobInfoCache } from "../copy/blob-info-cache.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { registryError } from "../transports/registry/errors.ts";
import { startUpload, withParam } from "../transports/registry/upload.ts";

export const isDigest = (s: unknown): s is Digest => typeof s === "string" && /^sha256:[a-f0-9]{64}$/.test(s);

export interface CommitLayer {
  /** sha256 of the bytes the page sent: diff_id for layers gzipped here, the blob digest otherwise. */
  expect: Digest;
  digest: Digest;
  size: number;
  compression: "gzip" | "zstd";
  /** true when the server gzipped this layer (then `expect` is its diff_id). */
  gzipped: boolean;
}

export interface CommitRequest {
  config: Uint8Array;
  format: Family;
  layers: CommitLayer[];
}

/** Layers this server gzipped and committed, diff_id → blob (plus the persistent cache imgx push shares). */
export type Verified = (diffId: Digest) => { digest: Digest; size: number } | undefined;

export async function headBlob(client: RegistryClient, repo: string, digest: string): Promise<number | undefined> {
  const res = await client.fetch(`/v2/${repo}/blobs/${digest}`, { method: "HEAD", repo, actions: ["pull", "push"] });
  await res.body?.cancel();
  if (res.status === 200) return Number(res.headers.get("content-length") ?? -1);
  if (res.status === 404) return undefined;
  throw await registryError(res, "check blobs in", `${client.registry}/${repo}`);
}

/** An image manifest that passed every check, its config already in the registry: ready to PUT. */
export interface CheckedManifest {
  mediaType: string;
  bytes: Uint8Array;
  digest: Digest;
}

/**
 * Writes the tag, only after checking that the image hangs together (see checkImage).
 */
export async function commitImage(client: RegistryClient, repo: string, tag: string, req: CommitRequest, verified: Verified): Promise<{ digest: Digest; size: number }> {
  const subject = `${client.registry}/${repo}:${tag}`;
  const m = await checkImage(client, repo, subject, req, verified);
  await putManifest(client, repo, tag, m, subject);
  return { digest: m.digest, size: m.bytes.length };
}

/**
 * Builds an image's manifest after checking that it hangs together: the config's diff_ids are the
 * layers that were verified on their way in, and every blob is in the registry with its size. Uploads
 * the config if the registry lacks it; writes no manifest.
 */
export async function checkImage(client: RegistryClient, repo: string, subject: string, req: CommitRequest, verified: Verified): Promise<CheckedManifest> {
  let config: { rootfs?: { diff_ids?: unknown } };
  try {
    config = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(req.config));
  } catch {
    throw new ImgxError("BAD_MANIFEST", `Cannot push ${q(subject)}: the image config is not JSON`);
  }
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== req.layers.length || req.layers.length === 0)
    throw new ImgxError("BAD_MANIFEST", `Cannot push ${q(subject)}: the config lists ${Array.isArray(diffIds) ? diffIds.length : "no"} diff_ids for ${req.layers.length} layers`);
  for (const [i, l] of req.layers.entries()) {
    if (!isDigest(l.expect) || !isDigest(l.digest) || !Number.isSafeInteger(l.size) || l.size < 0) throw new ImgxError("BAD_MANIFEST", `Cannot push ${q(subject)}: layer ${i + 1} is malformed`);
    if (l.gzipped) {
      if (l.expect !== diffIds[i]) throw new ImgxError("DIGEST_MISMATCH", `Cannot push ${q(subject)}: layer ${i + 1} was uploaded as ${q(l.expect)} but the config says ${q(diffIds[i])}`);
      const v = verified(l.expect);
      if (!v || v.digest !== l.digest || v.size !== l.size) throw new ImgxError("BLOB_UNKNOWN", `Cannot push ${q(subject)}: layer ${i + 1} (${q(l.expect)}) was not uploaded through this server: upload it first`);
    } else if (l.expect !== l.digest) throw new ImgxError("DIGEST_MISMATCH", `Cannot push ${q(subject)}: layer ${i + 1} was sent as ${q(l.expect)} but named ${q(l.digest)}`);
  }
  for (const [i, l] of req.layers.entries()) {
    const have = await headBlob(client, repo, l.digest);
    if (have === undefined) throw new ImgxError("BLOB_UNKNOWN", `Cannot push ${q(subject)}: layer ${i + 1} (${q(l.digest)}) is not in the registry: upload it first`);
    if (have >= 0 && have !== l.size) throw new ImgxError("SIZE_MISMATCH", `Cannot push ${q(subject)}: the registry holds ${have} bytes of layer ${i + 1}, the manifest would say ${l.size}`);
  }
  const configDigest = sha256Bytes(req.config);
  if ((await headBlob(client, repo, configDigest)) === undefined) {
    const { location } = await startUpload(client, repo);
    const res = await client.fetch(withParam(location, "digest", configDigest), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(req.config.length) },
      body: req.config,
      repo,
      actions: ["pull", "push"],
      idempotent: false,
    });
    if (res.status !== 201) throw await registryError(res, "upload the config to", subject);
    await res.body?.cancel();
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType(req.format),
    config: { mediaType: req.format === "docker" ? MT.dockerConfig : MT.ociConfig, size: req.config.length, digest: configDigest },
    layers: req.layers.map((l) => ({ mediaType: layerMediaType(req.format, l.compression), size: l.size, digest: l.digest })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
  return { mediaType: manifest.mediaType, bytes, digest: sha256Bytes(bytes) };
}

/** PUTs a manifest (or index) under `ref`, a tag or its own digest, and checks the digest the registry stored. */
export async function putManifest(client: RegistryClient, repo: string, ref: string, m: CheckedManifest, subject: string): Promise<void> {
  await putManifestBytes(client, repo, ref, m, subject);
}

/** What a layer became when gzipped here: this process's sessions first, then the cache imgx push fills. */
export function verifiedLookup(mine: Map<string, { digest: Digest; size: number }>, cache: BlobInfoCache): Verified {
  return (diffId) => mine.get(diffId) ?? cache.get(diffId, "gzip");
}
