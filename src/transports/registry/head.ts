import type { Digest } from "../../core/digest.ts";
import { MANIFEST_ACCEPT } from "./accept.ts";
import type { RegistryClient } from "./client.ts";
import { registryError } from "./errors.ts";
import { fetchManifest } from "./source.ts";

/**
 * What a tag or digest names right now, by one HEAD (free of Docker Hub's pull quota), or
 * undefined when the registry has no such manifest. A registry that leaves Docker-Content-Digest
 * out of its HEAD answer gets a GET, hashed by us.
 */
export async function headManifest(client: RegistryClient, repo: string, reference: string, signal?: AbortSignal): Promise<{ digest: Digest; mediaType?: string; size?: number } | undefined> {
  const res = await client.fetch(`/v2/${repo}/manifests/${reference}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT }, repo, actions: ["pull"], signal });
  await res.body?.cancel();
  if (res.status === 404) return undefined;
  if (!res.ok) throw await registryError(res, "check", `${client.registry}/${repo}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`);
  const digest = res.headers.get("docker-content-digest");
  const mediaType = res.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
  const size = Number(res.headers.get("content-length") ?? Number.NaN);
  if (digest?.startsWith("sha256:")) return { digest: digest as Digest, mediaType, size: Number.isFinite(size) ? size : undefined };
  const m = await fetchManifest(client, { registry: client.registry, repository: repo }, reference);
  return { digest: m.descriptor.digest, mediaType: m.parsed.mediaType, size: m.descriptor.size };
}
