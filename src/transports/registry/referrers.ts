import type { Digest } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { encodeJson } from "../../core/json.ts";
import { parseManifestBytes, type Descriptor } from "../../core/manifest.ts";
import { MT } from "../../core/media-types.ts";
import { referrersTag } from "../../core/referrers.ts";
import type { RegistryClient } from "./client.ts";
import { registryError } from "./errors.ts";
import { nextPage } from "./pagination.ts";

export interface ReferrersList {
  descriptors: Descriptor[];
  /** "api": the registry's /referrers endpoint; "tag": the fallback tag schema (distribution 2.8 and other pre-1.1 registries). */
  via: "api" | "tag";
}

/**
 * A subject's referrers: the OCI 1.1 referrers API (all pages), or, where the registry lacks it
 * (404/400/405 — distribution 2.8 answers a plain 404), the `sha256-<hex>` fallback tag.
 * `api` remembers per repository whether the API exists, so a sync asks once.
 */
export async function listReferrers(client: RegistryClient, repo: string, subject: Digest, api: { known?: boolean } = {}, signal?: AbortSignal): Promise<ReferrersList> {
  if (api.known !== false) {
    const out: Descriptor[] = [];
    let next: string | undefined = `/v2/${repo}/referrers/${subject}`;
    const seen = new Set<string>();
    while (next) {
      const res = await client.fetch(next, { method: "GET", headers: { accept: MT.ociIndex }, repo, actions: ["pull"], signal });
      const type = res.headers.get("content-type")?.split(";")[0]?.trim();
      if (res.status === 404 || res.status === 400 || res.status === 405 || (res.ok && type !== MT.ociIndex && seen.size === 0)) {
        await res.body?.cancel();
        api.known = false;
        break;
      }
      if (!res.ok) throw await registryError(res, "list the referrers of", `${client.registry}/${repo}@${subject}`);
      api.known = true;
      out.push(...indexManifests(new Uint8Array(await res.arrayBuffer()), `referrers of ${subject}`));
      seen.add(next);
      next = nextPage(res, seen);
    }
    if (api.known) return { descriptors: out, via: "api" };
  }
  const index = await readReferrersTag(client, repo, subject, signal);
  return { descriptors: index?.manifests ?? [], via: "tag" };
}

function indexManifests(bytes: Uint8Array, what: string): Descriptor[] {
  const parsed = parseManifestBytes(bytes, what, MT.ociIndex);
  if (parsed.kind !== "index") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: expected an image index`);
  return parsed.index.manifests;
}

async function readReferrersTag(client: RegistryClient, repo: string, subject: Digest, signal?: AbortSignal): Promise<{ manifests: Descriptor[]; raw: Record<string, unknown> } | undefined> {
  const tag = referrersTag(subject);
  const res = await client.fetch(`/v2/${repo}/manifests/${tag}`, { method: "GET", headers: { accept: MT.ociIndex }, repo, actions: ["pull"], signal });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) throw await registryError(res, "read the referrers tag", `${client.registry}/${repo}:${tag}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const manifests = indexManifests(bytes, `referrers tag ${repo}:${tag}`);
  return { manifests, raw: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown> };
}

/**
 * Adds an artifact to its subject's fallback tag (read, add unless present, write back), for a
 * registry that did not answer the artifact's manifest PUT with `OCI-Subject` (no referrers API).
 * Callers serialise updates per subject: two writers racing would drop one of the additions.
 */
export async function addToReferrersTag(client: RegistryClient, repo: string, subject: Digest, artifact: Descriptor, signal?: AbortSignal): Promise<boolean> {
  const current = await readReferrersTag(client, repo, subject, signal);
  if (current?.manifests.some((d) => d.digest === artifact.digest)) return false;
  const manifests = [...((current?.raw.manifests as unknown[] | undefined) ?? []), artifact];
  const bytes = encodeJson({ schemaVersion: 2, mediaType: MT.ociIndex, manifests });
  const tag = referrersTag(subject);
  const res = await client.fetch(`/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": MT.ociIndex, "content-length": String(bytes.length) },
    body: bytes,
    repo,
    actions: ["pull", "push"],
    idempotent: true,
    signal,
  });
  if (res.status !== 201 && res.status !== 200) throw await registryError(res, `update the referrers tag of ${q(subject)} in`, `${client.registry}/${repo}:${tag}`);
  await res.body?.cancel();
  return true;
}
