import { ImgxError, q } from "../core/errors.ts";
import { isIndexType } from "../core/media-types.ts";
import { MANIFEST_ACCEPT } from "../transports/registry/accept.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { registryError } from "../transports/registry/errors.ts";
import { json } from "./http.ts";
import type { Targets } from "./target.ts";

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const REF_RE = /^(?:[\w][\w.-]{0,127}|sha256:[a-f0-9]{64})$/;
/** An index may list many platforms; the page shows this many in full. */
const MAX_CHILDREN = 16;

function params(req: Request, targets: Targets, need: string[]): { client: RegistryClient; repo: string; ref: string; last: string } {
  const u = new URL(req.url).searchParams;
  const client = targets.client(u.get("registry") ?? "");
  const repo = u.get("repo") ?? "";
  const ref = u.get("ref") ?? "";
  if (need.includes("repo") && !REPO_RE.test(repo)) throw new ImgxError("BAD_REFERENCE", `Repository ${q(repo)} is not a valid name`);
  if (need.includes("ref") && !REF_RE.test(ref)) throw new ImgxError("BAD_REFERENCE", `${q(ref)} is neither a tag nor a sha256 digest`);
  return { client, repo, ref, last: u.get("last") ?? "" };
}

async function getJson(client: RegistryClient, path: string, repo: string, what: string, extraScopes?: string[], accept?: string) {
  const res = await client.fetch(path, { method: "GET", repo, actions: ["pull"], extraScopes, headers: accept ? { accept } : undefined });
  if (res.status !== 200) throw await registryError(res, `read ${what} of`, `${client.registry}${repo ? `/${repo}` : ""}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, bytes, body: JSON.parse(new TextDecoder().decode(bytes)) };
}

/** GET /api/catalog?registry&last: one page of repositories and whether there are more. */
export async function catalog(req: Request, targets: Targets): Promise<Response> {
  const { client, last } = params(req, targets, []);
  const path = `/v2/_catalog?n=50${last ? `&last=${encodeURIComponent(last)}` : ""}`;
  const { res, body } = await getJson(client, path, "", "the catalog", ["registry:catalog:*"]);
  const repos: string[] = Array.isArray(body.repositories) ? body.repositories : [];
  const more = /rel="?next"?/.test(res.headers.get("link") ?? "") ? repos.at(-1) : undefined;
  return json({ repositories: repos, next: more });
}

/** GET /api/tags?registry&repo */
export async function tags(req: Request, targets: Targets): Promise<Response> {
  const { client, repo } = params(req, targets, ["repo"]);
  const all: string[] = [];
  let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
  for (let page = 0; path && page < 20; page++) {
    const { res, body }: { res: Response; body: { tags?: string[] } } = await getJson(client, path, repo, "the tags");
    all.push(...(body.tags ?? []));
    const link = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get("link") ?? "");
    path = link?.[1];
  }
  return json({ tags: all.sort() });
}

/** GET /api/image?registry&repo&ref: platforms, layers, sizes, created and a config summary. */
export async function image(req: Request, targets: Targets): Promise<Response> {
  const { client, repo, ref } = params(req, targets, ["repo", "ref"]);
  const top = await getJson(client, `/v2/${repo}/manifests/${ref}`, repo, "the manifest", undefined, MANIFEST_ACCEPT);
  const digest = top.res.headers.get("docker-content-digest") ?? `sha256:${new Bun.CryptoHasher("sha256").update(top.bytes).digest("hex")}`;
  const mediaType = top.body.mediaType ?? top.res.headers.get("content-type");
  if (isIndexType(mediaType) || Array.isArray(top.body.manifests)) {
    const children = (top.body.manifests as { digest: string; platform?: Record<string, string> }[]).slice(0, MAX_CHILDREN);
    const images = [];
    for (const c of children) {
      const m = await getJson(client, `/v2/${repo}/manifests/${c.digest}`, repo, "a platform manifest", undefined, MANIFEST_ACCEPT);
      images.push({ ...(await summary(client, repo, m.body)), digest: c.digest, platform: c.platform });
    }
    return json({ digest, mediaType, images, more: top.body.manifests.length - children.length });
  }
  return json({ digest, mediaType, images: [{ ...(await summary(client, repo, top.body)), digest }] });
}

async function summary(client: RegistryClient, repo: string, m: { config?: { digest: string; size: number }; layers?: { digest: string; size: number; mediaType: string }[] }) {
  const layers = (m.layers ?? []).map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
  let config: Record<string, unknown> = {};
  if (m.config?.digest && m.config.size < 4 * 1024 * 1024) {
    const res = await client.fetch(`/v2/${repo}/blobs/${m.config.digest}`, { method: "GET", repo, actions: ["pull"] });
    if (res.status === 200) {
      const c = (await res.json().catch(() => ({}))) as Record<string, any>;
      const cc = c.config ?? {};
      config = { created: c.created, os: c.os, architecture: c.architecture, variant: c.variant, entrypoint: cc.Entrypoint, cmd: cc.Cmd, workingDir: cc.WorkingDir, user: cc.User, env: (cc.Env ?? []).length, exposedPorts: Object.keys(cc.ExposedPorts ?? {}), labels: cc.Labels ?? {} };
    } else await res.body?.cancel();
  }
  return { layers, size: layers.reduce((a, l) => a + (l.size || 0), 0) + (m.config?.size ?? 0), config, configDigest: m.config?.digest };
}

/** DELETE /api/tag?registry&repo&ref: deletes the manifest the tag points at (distribution deletes by digest). */
export async function deleteTag(req: Request, targets: Targets): Promise<Response> {
  const { client, repo, ref } = params(req, targets, ["repo", "ref"]);
  const head = await client.fetch(`/v2/${repo}/manifests/${ref}`, { method: "HEAD", repo, actions: ["pull"], headers: { accept: MANIFEST_ACCEPT } });
  await head.body?.cancel();
  if (head.status !== 200) throw await registryError(head, "find", `${client.registry}/${repo}:${ref}`);
  const digest = head.headers.get("docker-content-digest");
  if (!digest) throw new ImgxError("REGISTRY", `Cannot delete ${q(`${client.registry}/${repo}:${ref}`)}: the registry gave no digest for it`);
  const res = await client.fetch(`/v2/${repo}/manifests/${digest}`, { method: "DELETE", repo, actions: ["pull", "push"], extraScopes: [`repository:${repo}:delete`] });
  if (res.status !== 202 && res.status !== 200) throw await registryError(res, "delete", `${client.registry}/${repo}:${ref}`);
  await res.body?.cancel();
  return json({ deleted: `${client.registry}/${repo}:${ref}`, digest });
}
