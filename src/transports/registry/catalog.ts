import { ImgxError } from "../../core/errors.ts";
import type { RegistryClient } from "./client.ts";
import { registryError } from "./errors.ts";
import { nextPage } from "./pagination.ts";

/** Catalog access in distribution's token scheme; the registry's own name for "list repositories". */
const CATALOG_SCOPE = "registry:catalog:*";

/**
 * Every repository the registry lists in /v2/_catalog, following `Link` pagination with `n`
 * repositories per page. A registry whose page limit is lower than `n` answers 400
 * PAGINATION_NUMBER_INVALID (distribution's catalog.maxentries): the listing then starts over
 * without `n` and pages at the registry's own size. A registry without the API (Docker Hub, most
 * cloud registries) gets its own message instead of a bare 404/401.
 */
export async function listCatalog(client: RegistryClient, opts: { pageSize?: number; signal?: AbortSignal } = {}): Promise<string[]> {
  const host = client.registry;
  const first = opts.pageSize ? `/v2/_catalog?n=${opts.pageSize}` : "/v2/_catalog";
  let next: string | undefined = first;
  let retriedWithoutN = false;
  const seen = new Set<string>();
  const repos: string[] = [];
  for (let page = 0; next && page < 100_000; page++) {
    const res = await client.fetch(next, { method: "GET", repo: "", actions: [], extraScopes: [CATALOG_SCOPE], signal: opts.signal });
    if (res.status === 400 && next === first && opts.pageSize && !retriedWithoutN) {
      const body = await res.text();
      if (body.includes("PAGINATION_NUMBER_INVALID")) {
        retriedWithoutN = true;
        next = "/v2/_catalog";
        page--;
        continue;
      }
      throw new ImgxError("REGISTRY", `Cannot list the repositories of ${host}: /v2/_catalog answered HTTP 400 (${body.slice(0, 200).trim()})`);
    }
    if (res.status === 404 || res.status === 405)
      throw notOffered(host, `/v2/_catalog answered HTTP ${res.status}`, res);
    if (res.status === 401 || res.status === 403) {
      const e = await registryError(res, "list the repositories of", host);
      throw new ImgxError(e.code, `${e.message}; the registry does not list its repositories to these credentials (Docker Hub and most cloud registries never do)`, {
        hint: "name the repositories yourself (imgx sync --repo NAME, imgx tags HOST/REPO)",
      });
    }
    if (!res.ok) throw await registryError(res, "list the repositories of", host);
    const body = (await res.json().catch(() => undefined)) as { repositories?: unknown } | undefined;
    if (!body || (body.repositories !== null && body.repositories !== undefined && !Array.isArray(body.repositories)))
      throw notOffered(host, "/v2/_catalog did not answer with a repository list", res);
    repos.push(...((body.repositories as unknown[] | null | undefined) ?? []).filter((r): r is string => typeof r === "string"));
    seen.add(next);
    next = nextPage(res, seen);
  }
  return repos;
}

function notOffered(host: string, why: string, res: Response): ImgxError {
  void res.body?.cancel().catch(() => {});
  return new ImgxError("REGISTRY", `Cannot list the repositories of ${host}: the registry does not offer the catalog API (${why})`, {
    hint: "name the repositories yourself (imgx sync --repo NAME, imgx tags HOST/REPO)",
  });
}
