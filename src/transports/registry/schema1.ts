import type { Digest } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { MT, SCHEMA1_TYPES } from "../../core/media-types.ts";
import type { DockerReference } from "../../core/reference.ts";
import { parseJsonBytes } from "../../core/json.ts";
import { parseSchema1 } from "../../core/schema1.ts";
import type { ManifestData } from "../types.ts";
import { registryError, type RegistryClient } from "./client.ts";

/** Whether a manifest body is Docker schema 1: by the registry's Content-Type, or by its schemaVersion. */
export function looksLikeSchema1(bytes: Uint8Array, contentType: string | undefined, what: string): boolean {
  if (contentType && SCHEMA1_TYPES.includes(contentType)) return true;
  const o = parseJsonBytes(bytes, what);
  return typeof o === "object" && o !== null && (o as { schemaVersion?: unknown }).schemaVersion === 1;
}

/**
 * A schema 1 manifest from a registry. Its digest (the one Docker-Content-Digest and digest
 * references name) is that of its canonical payload: a registry re-signs the manifest on every
 * GET, so the bytes differ each time while the payload stays. Blob sizes, which schema 1 omits,
 * are asked with one HEAD per distinct layer.
 */
export async function schema1Data(client: RegistryClient, ref: DockerReference, reference: string, subject: string, bytes: Uint8Array, header: string | null): Promise<ManifestData> {
  const s1 = parseSchema1(bytes, `schema 1 manifest ${subject}`);
  if (reference.startsWith("sha256:") && s1.digest !== reference)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept manifest ${q(subject)}: its signed payload has digest ${q(s1.digest)}`);
  if (header && header.startsWith("sha256:") && header !== s1.digest)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept manifest ${q(subject)}: Docker-Content-Digest says ${q(header)} but its signed payload hashes to ${q(s1.digest)}`);
  const sizes = new Map<Digest, number>();
  for (const l of s1.layers) {
    if (l.throwaway || sizes.has(l.blobSum)) continue;
    const res = await client.fetch(`/v2/${ref.repository}/blobs/${l.blobSum}`, { method: "HEAD", repo: ref.repository, actions: ["pull"] });
    await res.body?.cancel();
    if (res.status === 404) throw new ImgxError("BLOB_UNKNOWN", `Cannot use ${q(subject)}: layer ${q(l.blobSum)} is not in the registry`);
    if (!res.ok) throw await registryError(res, "check blob", `${ref.repository}@${l.blobSum}`);
    const size = Number(res.headers.get("content-length"));
    if (!Number.isSafeInteger(size) || size < 0) throw new ImgxError("REGISTRY", `Cannot use ${q(subject)}: the registry gives no size for layer ${q(l.blobSum)}`);
    sizes.set(l.blobSum, size);
  }
  const mediaType = s1.payload === bytes ? MT.dockerSchema1 : MT.dockerSchema1Signed;
  return { descriptor: { mediaType, digest: s1.digest, size: bytes.byteLength }, bytes, parsed: { kind: "schema1", mediaType, schema1: s1, sizes } };
}
