import { ImgxError } from "../core/errors.ts";
import { compileTagFilter, type TagFilter } from "../core/tag-filter.ts";
import { formatReference, parseDockerReference, parseRepository } from "../core/reference.ts";
import { listTags, login as registryLogin, logout as registryLogout, resolveDigest } from "../transports/registry/index.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import type { RegistryOptions } from "../transports/types.ts";
import type { AppContext } from "./transfer.ts";

/** A repository's tags, all pages, through `filter`; `repository` is its full name as printed. */
export async function tags(repo: string, opts: RegistryOptions = {}, ctx: AppContext = {}, filter: TagFilter = {}): Promise<{ repository: string; tags: string[] }> {
  const ref = parseRepository(repo.replace(/^docker:\/\//, ""));
  const apply = compileTagFilter(filter);
  const clients = ctx.clients ?? new RegistryClients();
  const list = await listTags(ref, opts, clients.get(ref.registry, opts));
  return { repository: formatReference(ref), tags: apply(list) };
}

/** The manifest digest a reference resolves to (HEAD first: no pull quota spent). */
export async function digest(reference: string, opts: RegistryOptions = {}, ctx: AppContext = {}): Promise<{ reference: string; digest: string }> {
  const ref = parseDockerReference(reference.replace(/^docker:\/\//, ""));
  const clients = ctx.clients ?? new RegistryClients();
  return { reference: formatReference(ref), digest: await resolveDigest(ref, opts, clients.get(ref.registry, opts)) };
}

/** Checks the credentials in `opts` against the registry, then stores them in Docker's config.json. */
export async function login(registry: string, opts: RegistryOptions): Promise<void> {
  if (!opts.username || opts.password === undefined) throw new ImgxError("USAGE", "Cannot log in: pass --username and --password-stdin (or --creds user:password)");
  await registryLogin(registry, opts.username, opts.password, opts);
}

export async function logout(registry: string): Promise<void> {
  await registryLogout(registry);
}
