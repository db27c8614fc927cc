import { ImgxError, q } from "../../core/errors.ts";
import { parseDockerReference, type DockerReference } from "../../core/reference.ts";
import type { RegistryOptions } from "../types.ts";
import { MANIFEST_ACCEPT } from "./accept.ts";
import { RegistryClient, registryError } from "./client.ts";
import { eraseCredentials, storeCredentials } from "./credentials.ts";
import { fetchManifest } from "./source.ts";

export { openRegistrySource } from "./source.ts";
export { openRegistrySink } from "./sink.ts";
export { RegistryClients } from "./clients.ts";
export { RegistryClient } from "./client.ts";
export type { EndpointName, RequestObservation, RequestObserver } from "./observe.ts";

/** All tags of a repository, following `Link: <…>; rel="next"` pagination. */
export async function listTags(ref: DockerReference, opts: RegistryOptions, client = new RegistryClient(ref.registry, opts)): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `/v2/${ref.repository}/tags/list?n=1000`;
  const seen = new Set<string>();
  for (let page = 0; next && page < 10_000; page++) {
    const res = await client.fetch(next, { method: "GET", repo: ref.repository, actions: ["pull"] });
    if (!res.ok) throw await registryError(res, "list tags of", `${ref.registry}/${ref.repository}`);
    const body = (await res.json()) as { tags?: string[] | null };
    tags.push(...(body.tags ?? []));
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get("link") ?? "")?.[1];
    // a Link back to a page already read would loop forever
    seen.add(next);
    next = link && !seen.has(link) ? link : undefined;
  }
  return tags;
}

/** The digest a reference resolves to: HEAD (cheap, no pull quota on Docker Hub), falling back to GET. */
export async function resolveDigest(ref: DockerReference, opts: RegistryOptions, client = new RegistryClient(ref.registry, opts)): Promise<string> {
  const reference = ref.digest ?? ref.tag ?? "latest";
  const res = await client.fetch(`/v2/${ref.repository}/manifests/${reference}`, { method: "HEAD", headers: { accept: MANIFEST_ACCEPT }, repo: ref.repository, actions: ["pull"] });
  await res.body?.cancel();
  const d = res.headers.get("docker-content-digest");
  // a digest reference must resolve to itself; anything else gets the verified GET below
  if (res.ok && d?.startsWith("sha256:") && (!ref.digest || d === ref.digest)) return d;
  if (res.status === 404) throw new ImgxError("MANIFEST_UNKNOWN", `Cannot resolve ${q(`${ref.registry}/${ref.repository}:${reference}`)}: manifest unknown`);
  return (await fetchManifest(client, ref, reference)).descriptor.digest;
}

/** Checks credentials against the registry, then stores them in Docker's config.json. */
export async function login(registry: string, username: string, password: string, opts: RegistryOptions): Promise<void> {
  const host = parseDockerReference(`${registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "")}/x`).registry;
  const client = new RegistryClient(host, { ...opts, username, password });
  // Bearer: a token with no scope proves the password (docker login's way); Basic: /v2/ itself does
  const res = await client.fetch("/v2/", { method: "GET", repo: "", actions: [] });
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403)
    throw new ImgxError("UNAUTHORIZED", `Cannot log in to ${host}: the registry refused the credentials of user ${q(username)}`);
  if (!res.ok) throw new ImgxError("REGISTRY", `Cannot log in to ${host}: /v2/ answered HTTP ${res.status}`);
  await storeCredentials(host, username, password);
}

export async function logout(registry: string): Promise<void> {
  const host = parseDockerReference(`${registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "")}/x`).registry;
  if (!(await eraseCredentials(host))) throw new ImgxError("NOT_FOUND", `Cannot log out of ${host}: no stored credentials`);
}
