// What a read scenario works on: the reference's manifest (and, for an index, the child for the
// chosen platform) and the blobs that image consists of. Resolved once before the run.
import { ImgxError, q } from "../core/errors.ts";
import { parseManifestBytes, type Descriptor } from "../core/manifest.ts";
import { isIndexType } from "../core/media-types.ts";
import { formatPlatform, platformScore, type Platform } from "../core/platform.ts";
import type { DockerReference } from "../core/reference.ts";
import { MANIFEST_ACCEPT } from "../transports/registry/accept.ts";
import type { BenchHttp, OpState } from "./http.ts";

export interface ReadTarget {
  repo: string;
  /** Tag or digest the reference names. */
  reference: string;
  /** Index child picked for the platform, if the reference names an index. */
  child?: Descriptor;
  blobs: Descriptor[];
}

export const manifestPath = (repo: string, reference: string) => `/v2/${repo}/manifests/${reference}`;
export const blobPath = (repo: string, digest: string) => `/v2/${repo}/blobs/${digest}`;
export const ACCEPT = { accept: MANIFEST_ACCEPT };

export async function resolveTarget(http: BenchHttp, op: OpState, ref: DockerReference, platform: Platform): Promise<ReadTarget> {
  const repo = ref.repository;
  const reference = ref.digest ?? ref.tag ?? "latest";
  const name = `${ref.registry}/${repo}:${reference}`.replace(/:sha256:/, "@sha256:");
  const top = await http.send(op, "GET manifest", manifestPath(repo, reference), { method: "GET", headers: ACCEPT, repo, actions: ["pull"], expect: [200], read: "bytes" }).catch((e: Error) => {
    if (e instanceof ImgxError) throw e;
    const status = Number(/HTTP (\d{3})/.exec(e.message)?.[1]);
    const code = status === 404 ? "NOT_FOUND" : status === 401 ? "UNAUTHORIZED" : status === 403 ? "DENIED" : "REGISTRY";
    const hint = status === 404 ? "push an image there first (imgx push), or bench push to create some" : status === 401 ? "pass --creds or log in with imgx login" : undefined;
    throw new ImgxError(code, `Cannot benchmark ${q(name)}: fetching its manifest failed: ${e.message}`, { hint });
  });
  const ct = top.headers.get("content-type")?.split(";")[0]?.trim();
  let parsed = parseManifestBytes(top.bytes!, `manifest ${q(name)}`, ct);
  let child: Descriptor | undefined;
  if (parsed.kind === "index") {
    let best = -1;
    for (const m of parsed.index.manifests) {
      if (isIndexType(m.mediaType)) continue;
      const s = platformScore(platform, m.platform);
      if (s > best) [best, child] = [s, m];
    }
    if (!child || best < 0) throw new ImgxError("PLATFORM_NOT_FOUND", `Cannot benchmark ${q(name)}: it has no image for ${formatPlatform(platform)}`, { hint: "pass --platform" });
    const got = await http.send(op, "GET manifest", manifestPath(repo, child.digest), { method: "GET", headers: ACCEPT, repo, actions: ["pull"], expect: [200], read: "bytes" });
    parsed = parseManifestBytes(got.bytes!, `manifest ${q(`${name}@${child.digest}`)}`, child.mediaType);
    if (parsed.kind !== "manifest") throw new ImgxError("UNSUPPORTED", `Cannot benchmark ${q(name)}: nested indexes are not supported`);
  }
  if (parsed.kind !== "manifest") throw new ImgxError("UNSUPPORTED", `Cannot benchmark ${q(name)}: not an image manifest`);
  const blobs = [parsed.manifest.config, ...parsed.manifest.layers];
  return { repo, reference, child, blobs };
}
