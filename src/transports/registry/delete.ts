import { sha256Bytes } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { encodeJson } from "../../core/json.ts";
import { MT } from "../../core/media-types.ts";
import { formatReference, type DockerReference } from "../../core/reference.ts";
import { MANIFEST_ACCEPT } from "./accept.ts";
import type { RegistryClient } from "./client.ts";
import { registryError } from "./errors.ts";

export interface DeleteResult {
  /** The reference that is gone: a digest (the manifest and every tag pointing at it) or a tag. */
  deleted: string;
  /** "digest": manifest deleted; "tag": the registry's tag delete; "placeholder": tag moved to a throwaway manifest that was then deleted. */
  how: "digest" | "tag" | "placeholder";
}

const EMPTY = new TextEncoder().encode("{}");
const EMPTY_MT = MT.ociEmpty;

/**
 * Deletes a manifest by digest (its tags go with it), or a tag. A tag goes through the registry's
 * tag delete (OCI distribution spec, distribution 3); a registry that has deletes enabled but no
 * tag delete (distribution 2.8 answers 400 DIGEST_INVALID) gets regctl's workaround: the tag is
 * pointed at a unique placeholder manifest, which is then deleted by digest, so the image the tag
 * named and its other tags stay. A registry with deletes disabled gets its own error.
 */
export async function deleteReference(client: RegistryClient, ref: DockerReference, signal?: AbortSignal): Promise<DeleteResult> {
  const target = ref.digest ?? ref.tag;
  if (!target) throw new ImgxError("USAGE", "Cannot delete: name a tag or a digest");
  const name = formatReference(ref);
  const res = await send(client, ref.repository, target, signal);
  if (res.status === 202 || res.status === 200) {
    await res.body?.cancel();
    return { deleted: target, how: ref.digest ? "digest" : "tag" };
  }
  const text = await res.text();
  const regCode = /"code"\s*:\s*"([A-Z_]+)"/.exec(text)?.[1];
  if (res.status === 405 || regCode === "UNSUPPORTED")
    throw new ImgxError("REGISTRY", `Cannot delete ${q(name)}: the registry has deletes disabled (HTTP ${res.status}${regCode ? ` ${regCode}` : ""})`, {
      hint: "its operator must allow them (distribution: storage.delete.enabled: true)",
    });
  if (!ref.digest && res.status === 400 && regCode === "DIGEST_INVALID") return untagByPlaceholder(client, ref, signal);
  if (res.status === 404) throw new ImgxError("MANIFEST_UNKNOWN", `Cannot delete ${q(name)}: the registry has no such ${ref.digest ? "manifest" : "tag"}`);
  throw await registryError(new Response(text, { status: res.status, statusText: res.statusText }), "delete", name);
}

function send(client: RegistryClient, repo: string, target: string, signal?: AbortSignal): Promise<Response> {
  return client.fetch(`/v2/${repo}/manifests/${target}`, {
    method: "DELETE",
    repo,
    actions: ["pull"],
    extraScopes: [`repository:${repo}:delete`],
    // a DELETE that reached the registry and got lost on the way back is answered 404 on replay
    idempotent: true,
    signal,
  });
}

async function untagByPlaceholder(client: RegistryClient, ref: DockerReference, signal?: AbortSignal): Promise<DeleteResult> {
  const repo = ref.repository;
  const name = formatReference(ref);
  const scope = { repo, actions: ["pull", "push"] as ("pull" | "push")[], extraScopes: [`repository:${repo}:delete`], signal };
  // distribution 2.8 answers DIGEST_INVALID whether or not the tag exists: don't create it to delete it
  const tagHead = await client.fetch(`/v2/${repo}/manifests/${ref.tag}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT }, ...scope });
  await tagHead.body?.cancel();
  if (tagHead.status === 404) throw new ImgxError("MANIFEST_UNKNOWN", `Cannot delete ${q(name)}: the registry has no such tag`);
  if (!tagHead.ok) throw await registryError(tagHead, "delete", name);
  const emptyDigest = sha256Bytes(EMPTY);
  const head = await client.fetch(`/v2/${repo}/blobs/${emptyDigest}`, { method: "HEAD", ...scope });
  await head.body?.cancel();
  if (head.status !== 200) {
    const put = await client.fetch(`/v2/${repo}/blobs/uploads/?digest=${emptyDigest}`, { method: "POST", headers: { "content-type": "application/octet-stream", "content-length": "2" }, body: EMPTY, ...scope, idempotent: true });
    if (put.status === 202) {
      // a registry that ignores the one-request form opens an upload session instead: finish it
      const loc = new URL(put.headers.get("location") ?? "", await client.resolveUrl("/"));
      loc.searchParams.set("digest", emptyDigest);
      await put.body?.cancel();
      const fin = await client.fetch(loc.toString(), { method: "PUT", headers: { "content-type": "application/octet-stream", "content-length": "2" }, body: EMPTY, ...scope, idempotent: true });
      if (fin.status !== 201) throw await registryError(fin, "untag", name);
      await fin.body?.cancel();
    } else if (put.status !== 201) throw await registryError(put, "untag", name);
    else await put.body?.cancel();
  }
  // unique, so deleting it by digest takes no other tag along
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: EMPTY_MT, digest: emptyDigest, size: 2 },
    layers: [],
    annotations: { "dev.imgx.placeholder": `untag ${ref.tag} ${crypto.randomUUID()}` },
  });
  const digest = sha256Bytes(manifest);
  const put = await client.fetch(`/v2/${repo}/manifests/${ref.tag}`, { method: "PUT", headers: { "content-type": "application/vnd.oci.image.manifest.v1+json", "content-length": String(manifest.length) }, body: manifest, ...scope, idempotent: true });
  if (put.status !== 201) throw await registryError(put, "untag", name);
  await put.body?.cancel();
  const del = await send(client, repo, digest, signal);
  if (del.status !== 202 && del.status !== 200) throw await registryError(del, `untag (the tag now names placeholder ${digest}; delete it by digest)`, name);
  await del.body?.cancel();
  return { deleted: ref.tag!, how: "placeholder" };
}
