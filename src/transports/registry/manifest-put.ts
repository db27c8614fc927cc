import type { Digest } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import type { RegistryClient } from "./client.ts";
import { registryError } from "./errors.ts";

/**
 * PUTs manifest bytes under `ref` (a tag or the digest) and checks that the registry stored what
 * was sent (its Docker-Content-Digest, when it gives one). Returns the response headers: a caller
 * may need OCI-Subject. `subject` names the manifest in errors.
 */
export async function putManifestBytes(client: RegistryClient, repo: string, ref: string, m: { mediaType: string; bytes: Uint8Array; digest: Digest | string }, subject: string): Promise<Headers> {
  const res = await client.fetch(`/v2/${repo}/manifests/${ref}`, {
    method: "PUT",
    headers: { "content-type": m.mediaType, "content-length": String(m.bytes.length) },
    body: m.bytes,
    repo,
    actions: ["pull", "push"],
    idempotent: true,
  });
  if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await registryError(res, "push manifest", subject);
  await res.body?.cancel();
  const got = res.headers.get("docker-content-digest");
  if (got && got !== m.digest) throw new ImgxError("DIGEST_MISMATCH", `Cannot push manifest ${q(subject)}: the registry stored ${q(got)}, we sent ${q(m.digest)}`);
  return res.headers;
}
