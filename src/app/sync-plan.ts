import { existsSync, statSync } from "node:fs";
import { ImgxError, q } from "../core/errors.ts";
import { parseDockerReference } from "../core/reference.ts";
import { compileTagFilter, type TagFilter } from "../core/tag-filter.ts";
import { REF_NAME } from "../storage/layout-names.ts";
import type { ImageSource, SourceImage } from "../transports/types.ts";

/** Where a sync reads from or writes to. */
export type SyncEndpoint =
  | { kind: "registry"; registry: string; /** repository (SRC) or repository / prefix (DST); absent = the whole registry */ path?: string; tag?: string; input: string }
  | { kind: "bundle"; path: string; input: string };

/** One image to bring over: a source repository and tag, and where it goes. */
export interface SyncTask {
  srcRepo: string;
  tag: string;
  /** Registry destination: repository; bundle destination: ref.name ("repo:tag"). */
  dstRepo: string;
  /** Bundle sources: the image as index.json lists it. */
  image?: SourceImage;
}

/** The OCI 1.1 referrers fallback tag of a sha256 subject (core/referrers.ts referrersTag). */
const FALLBACK_TAG = /^sha256-[0-9a-f]{64}$/;

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/**
 * Parses SRC or DST: `oci:DIR` or a directory path (bundle), `HOST` (a whole registry),
 * `HOST/REPO` (one repository, or a prefix when the source is a whole registry or a bundle);
 * a source may name one tag (`HOST/REPO:TAG`).
 */
export function parseSyncEndpoint(input: string, role: "source" | "destination"): SyncEndpoint {
  let s = input.replace(/^docker:\/\//, "");
  if (s.startsWith("oci:")) return { kind: "bundle", path: s.slice(4), input };
  if (s.startsWith("/") || s.startsWith("./") || s.startsWith("../") || s === "." || (existsSync(s) && statSync(s).isDirectory())) return { kind: "bundle", path: s, input };
  if (/^(oci-archive|docker-archive):/.test(s)) throw new ImgxError("USAGE", `Cannot sync ${role} ${q(input)}: sync works with registries and OCI layout directories (oci:DIR)`);
  s = s.replace(/\/+$/, "");
  if (!s.includes("/")) {
    const ref = parseDockerReference(`${s}/x`, { defaultTag: false });
    if (ref.registry !== s && !(s === "docker.io" || s === "index.docker.io" || s === "registry-1.docker.io"))
      throw new ImgxError("USAGE", `Cannot sync ${role} ${q(input)}: a registry host has a dot or a port (registry.example.com, localhost:5000); a Docker Hub repository needs its namespace (library/alpine)`);
    return { kind: "registry", registry: ref.registry, input };
  }
  const ref = parseDockerReference(s, { defaultTag: false });
  if (ref.digest) throw new ImgxError("USAGE", `Cannot sync ${role} ${q(input)}: name a repository or a tag, not a digest (use imgx copy for one image)`);
  if (ref.tag && role === "destination") throw new ImgxError("USAGE", `Cannot sync to ${q(input)}: a destination names a registry or repository, without a tag (tags come from the source)`);
  return { kind: "registry", registry: ref.registry, path: ref.repository, tag: ref.tag, input };
}

/** `repo:tag` as a bundle names it; undefined for bare tags (skopeo's oci:DIR:TAG), which name no repository. */
export function splitBundleName(name: string): { repo: string; tag: string } | undefined {
  const at = name.lastIndexOf(":");
  if (at <= 0) return undefined;
  const repo = name.slice(0, at);
  const tag = name.slice(at + 1);
  return REPO_RE.test(repo) && tag ? { repo, tag } : undefined;
}

export interface PlanInput {
  src: SyncEndpoint;
  dst: SyncEndpoint;
  /** Repositories of a whole registry or bundle: anchored regexes; plain names skip the catalog. */
  repos?: string[];
  tags?: TagFilter;
}

/** Where a source repository lands at the destination. */
export function targetRepo(input: PlanInput, srcRepo: string): string {
  const { src, dst } = input;
  if (dst.kind === "bundle") return srcRepo;
  // one repository to a named repository: that name; otherwise the destination path is a prefix
  if (src.kind === "registry" && src.path) return dst.path ?? srcRepo;
  return dst.path ? `${dst.path}/${srcRepo}` : srcRepo;
}

export interface PlanSources {
  /** Repositories of a whole registry (/v2/_catalog). */
  catalog(registry: string): Promise<string[]>;
  tags(registry: string, repo: string): Promise<string[]>;
  /** A bundle's images (index.json). */
  bundle(path: string): Promise<ImageSource>;
}

/** Works out every (repository, tag) to consider, filters applied; no manifest is read yet. */
export async function planSync(input: PlanInput, from: PlanSources): Promise<SyncTask[]> {
  const { src, dst } = input;
  if (src.kind === "bundle" && dst.kind === "bundle") throw new ImgxError("USAGE", "Cannot sync from a bundle to a bundle: one end must be a registry (use imgx copy between layouts)");
  const pickTags = compileTagFilter(input.tags ?? {});
  const repoFilter = compileTagFilter({ regex: input.repos });
  if (input.repos?.length && src.kind === "registry" && src.path) throw new ImgxError("USAGE", `Cannot use --repo with ${q(src.input)}: it names one repository already (--repo filters a whole registry or bundle)`);
  if (src.kind === "registry" && src.tag && pickTags.active) throw new ImgxError("USAGE", `Cannot filter tags of ${q(src.input)}: it names one tag already`);
  if (src.kind === "bundle") {
    const source = await from.bundle(src.path);
    const tasks: SyncTask[] = [];
    for (const image of await source.images()) {
      const name = image.descriptor.annotations?.[REF_NAME];
      const parts = name ? splitBundleName(name) : undefined;
      if (!parts || !repoFilter([parts.repo]).length || !pickTags([parts.tag]).length) continue;
      tasks.push({ srcRepo: parts.repo, tag: parts.tag, dstRepo: targetRepo(input, parts.repo), image });
    }
    await source.close();
    return tasks;
  }
  let repos: string[];
  if (src.path) repos = [src.path];
  else if (input.repos?.length && input.repos.every((r) => REPO_RE.test(r))) repos = input.repos; // plain names: no catalog needed (Docker Hub has none)
  else repos = repoFilter(await from.catalog(src.registry));
  const perRepo = await Promise.all(
    repos.map(async (repo) => {
      // referrers fallback tags ("sha256-<hex>") belong to their subjects: --referrers carries them
      const tags = src.tag ? [src.tag] : pickTags((await from.tags(src.registry, repo)).filter((t) => !FALLBACK_TAG.test(t)));
      return tags.map((tag) => ({ srcRepo: repo, tag, dstRepo: targetRepo(input, repo) }));
    }),
  );
  return perRepo.flat();
}
