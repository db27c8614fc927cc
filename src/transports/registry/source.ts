import { sha256Bytes, type Digest } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { MAX_JSON_BYTES } from "../../core/json.ts";
import { parseManifestBytes, type Descriptor } from "../../core/manifest.ts";
import { formatReference, type DockerReference } from "../../core/reference.ts";
import { checkBytes } from "../../core/verify.ts";
import type { BlobRead, ImageSource, ManifestData, RangeRead } from "../types.ts";
import type { RegistryOptions } from "./options.ts";
import { MANIFEST_ACCEPT } from "./accept.ts";
import { RegistryClient, registryError } from "./client.ts";
import { looksLikeSchema1, schema1Data } from "./schema1.ts";
import { listReferrers } from "./referrers.ts";

/** Reads a manifest body, refusing more than 4 MiB whatever Content-Length claims. */
async function readManifestBody(res: Response, what: string): Promise<Uint8Array> {
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > MAX_JSON_BYTES) {
    await res.body?.cancel();
    throw new ImgxError("BAD_MANIFEST", `Cannot accept ${what}: ${len} bytes exceeds the 4 MiB manifest limit`);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body ?? new ReadableStream()) {
    n += c.byteLength;
    if (n > MAX_JSON_BYTES) throw new ImgxError("BAD_MANIFEST", `Cannot accept ${what}: body exceeds the 4 MiB manifest limit`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function fetchManifest(client: RegistryClient, ref: DockerReference, reference: string): Promise<ManifestData> {
  const subject = `${ref.registry}/${ref.repository}:${reference}`.replace(/:sha256:/, "@sha256:");
  const res = await client.fetch(`/v2/${ref.repository}/manifests/${reference}`, { method: "GET", headers: { accept: MANIFEST_ACCEPT }, repo: ref.repository, actions: ["pull"] });
  if (!res.ok) throw await registryError(res, "fetch manifest", subject);
  const bytes = await readManifestBody(res, `manifest ${subject}`);
  const header = res.headers.get("docker-content-digest");
  const contentType = res.headers.get("content-type")?.split(";")[0]?.trim();
  if (looksLikeSchema1(bytes, contentType, `manifest ${subject}`)) return schema1Data(client, ref, reference, subject, bytes, header);
  const digest = sha256Bytes(bytes);
  if (reference.startsWith("sha256:") && digest !== reference)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept manifest ${q(subject)}: the registry sent content with digest ${q(digest)}`);
  if (header && header.startsWith("sha256:") && header !== digest)
    throw new ImgxError("DIGEST_MISMATCH", `Cannot accept manifest ${q(subject)}: Docker-Content-Digest says ${q(header)} but the content hashes to ${q(digest)}`);
  const parsed = parseManifestBytes(bytes, `manifest ${subject}`, contentType);
  return { descriptor: { mediaType: parsed.mediaType, digest: digest as Digest, size: bytes.length }, bytes, parsed };
}

/**
 * A registry image as an ImageSource: one image named by the reference's full form; manifests
 * hashed by us and checked against Docker-Content-Digest and the digest asked for; blobs streamed
 * unverified (the pipeline's verify stream hashes them).
 * `blobFrom(desc, offset)` sends a closed `Range: bytes=offset-(size-1)`; a registry that answers
 * 200 instead of 206 gets its body cancelled and `rangeIgnored` returned.
 */
export async function openRegistrySource(ref: DockerReference, opts: RegistryOptions, client = new RegistryClient(ref.registry, opts)): Promise<ImageSource> {
  const name = formatReference(ref);
  let top: ManifestData | undefined;
  const getBlob = async (desc: Descriptor, headers: Record<string, string>, read: BlobRead): Promise<Response> => {
    const res = await client.fetch(`/v2/${ref.repository}/blobs/${desc.digest}`, { method: "GET", headers, repo: ref.repository, actions: ["pull"], attempts: read.attempts, signal: read.signal });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new ImgxError("BLOB_UNKNOWN", `Cannot fetch blob ${q(desc.digest)} from ${q(`${ref.registry}/${ref.repository}`)}: the registry does not have it`);
    }
    if (!res.ok) throw await registryError(res, "fetch blob", `${ref.repository}@${desc.digest}`);
    return res;
  };
  const referrersApi: { known?: boolean } = {};
  return {
    label: `docker://${name}`,
    mountFrom: { registry: ref.registry, repository: ref.repository },
    images: async () => {
      top ??= await fetchManifest(client, ref, ref.digest ?? ref.tag ?? "latest");
      return [{ descriptor: top.descriptor, names: [name] }];
    },
    manifest: async (desc: Descriptor) => {
      if (top && desc.digest === top.descriptor.digest) return top;
      const m = await fetchManifest(client, ref, desc.digest);
      // a schema 1 manifest's digest covers its payload, which fetchManifest checked against desc.digest
      if (m.parsed.kind !== "schema1") checkBytes(m.bytes, desc, `manifest ${desc.digest}`);
      return { ...m, descriptor: { ...m.descriptor, ...desc } };
    },
    blob: async (desc: Descriptor, read: BlobRead = {}) => {
      const res = await getBlob(desc, {}, read);
      if (!res.body) throw new ImgxError("REGISTRY", `Cannot fetch blob ${q(desc.digest)}: empty response`);
      return res.body;
    },
    blobFrom: async (desc: Descriptor, offset: number, read: BlobRead = {}): Promise<RangeRead> => {
      // A closed range: some registries answer an open-ended "bytes=N-" with 416.
      const res = await getBlob(desc, { range: `bytes=${offset}-${desc.size - 1}` }, read);
      if (res.status !== 206) {
        // the registry ignored Range: never hand out bytes from 0 as if they were from `offset`
        await res.body?.cancel();
        return { rangeIgnored: true };
      }
      if (!res.body) throw new ImgxError("REGISTRY", `Cannot fetch blob ${q(desc.digest)}: empty response`);
      return { stream: res.body };
    },
    referrers: async (subject: Descriptor) => (await listReferrers(client, ref.repository, subject.digest, referrersApi)).descriptors,
    close: async () => {},
  };
}
