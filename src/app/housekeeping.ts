import { ImgxError, q } from "../core/errors.ts";
import { formatReference, parseDockerReference } from "../core/reference.ts";
import { compileTagFilter } from "../core/tag-filter.ts";
import { listCatalog } from "../transports/registry/catalog.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import { deleteReference, type DeleteResult } from "../transports/registry/delete.ts";
import type { RegistryOptions } from "../transports/types.ts";
import type { AppContext } from "./transfer.ts";

/** The registry host a user named ("localhost:5000", "https://r.example.com/", "docker.io"). */
export function registryArg(s: string): string {
  return parseDockerReference(`${s.replace(/^(docker|https?):\/\//, "").replace(/\/.*$/, "")}/x`).registry;
}

/** The repositories a registry lists (/v2/_catalog, all pages), those matching `repos` (anchored regexes) when given. */
export async function catalog(registry: string, opts: RegistryOptions = {}, ctx: AppContext = {}, filter: { repos?: string[]; pageSize?: number } = {}): Promise<{ registry: string; repositories: string[] }> {
  const host = registryArg(registry);
  const pick = compileTagFilter({ regex: filter.repos });
  const clients = ctx.clients ?? new RegistryClients();
  try {
    const all = await listCatalog(clients.get(host, opts), { pageSize: filter.pageSize ?? 1000, signal: ctx.signal });
    return { registry: host, repositories: pick(all) };
  } finally {
    if (!ctx.clients) clients.close();
  }
}

/** Deletes `repo@digest` (the manifest and every tag on it) or `repo:tag` (that tag only); see registry/delete.ts. */
export async function deleteImage(reference: string, opts: RegistryOptions = {}, ctx: AppContext = {}): Promise<DeleteResult & { reference: string }> {
  const raw = reference.replace(/^docker:\/\//, "");
  const ref = parseDockerReference(raw, { defaultTag: false });
  // "delete repo" must never mean "delete repo:latest" by accident
  if (!ref.tag && !ref.digest) throw new ImgxError("USAGE", `Cannot delete ${q(raw)}: name a tag (repo:tag) or a digest (repo@sha256:…)`);
  if (ref.tag && ref.digest) throw new ImgxError("USAGE", `Cannot delete ${q(raw)}: give a tag or a digest, not both`);
  const clients = ctx.clients ?? new RegistryClients();
  try {
    const out = await deleteReference(clients.get(ref.registry, opts), ref, ctx.signal);
    return { ...out, reference: formatReference(ref) };
  } finally {
    if (!ctx.clients) clients.close();
  }
}
