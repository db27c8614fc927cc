import { sha256Bytes } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import { indexMediaType, type Family } from "../core/media-types.ts";
import { formatPlatform, type Platform } from "../core/platform.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { checkImage, putManifest, type CheckedManifest, type CommitRequest, type Verified } from "./commit.ts";

/** More platforms than any real index has (docker's official images list about ten). */
const MAX_PLATFORMS = 64;

export interface IndexRequest {
  /** "docker": a docker manifest list of docker manifests; "oci": an OCI image index of OCI manifests. */
  form: Family;
  manifests: { platform: Platform; image: Omit<CommitRequest, "format"> }[];
}

const PART = /^[A-Za-z0-9_.-]{1,64}$/;

/** The platform fields an index descriptor may carry, checked; anything else the page sent is dropped. */
export function checkedPlatform(p: unknown, i: number): Platform {
  const o = (p ?? {}) as Record<string, unknown>;
  const bad = (what: string) => new ImgxError("USAGE", `Platform ${i + 1}: ${what}`);
  if (typeof o.os !== "string" || !PART.test(o.os) || typeof o.architecture !== "string" || !PART.test(o.architecture)) throw bad("expected os and architecture (letters, digits, . _ -)");
  const out: Platform = { architecture: o.architecture, os: o.os };
  if (o["os.version"] !== undefined) {
    if (typeof o["os.version"] !== "string" || o["os.version"].length > 128) throw bad("os.version must be a short string");
    out["os.version"] = o["os.version"];
  }
  for (const k of ["os.features", "features"] as const)
    if (o[k] !== undefined) {
      const v = o[k];
      if (!Array.isArray(v) || v.length > 32 || !v.every((x) => typeof x === "string" && PART.test(x))) throw bad(`${k} must be a list of short strings`);
      out[k] = v as string[];
    }
  if (o.variant !== undefined && o.variant !== "") {
    if (typeof o.variant !== "string" || !PART.test(o.variant)) throw bad("variant must be a short string");
    out.variant = o.variant;
  }
  return out;
}

/**
 * Pushes a multi-platform image the way `skopeo copy --all` does: every platform's manifest is
 * checked as commitImage checks one (config diff_ids against verified layers, every blob in the
 * registry with its size) before anything is written, then each is PUT by digest, and the index is
 * PUT under the tag last. One bad platform: no manifest written, nothing tagged. The index lists the
 * manifests this server built, never digests the page sent.
 */
export async function commitIndex(client: RegistryClient, repo: string, tag: string, req: IndexRequest, verified: Verified): Promise<{ digest: string; mediaType: string; manifests: { platform: string; digest: string; size: number }[] }> {
  const subject = `${client.registry}/${repo}:${tag}`;
  if (req.manifests.length === 0 || req.manifests.length > MAX_PLATFORMS) throw new ImgxError("USAGE", `Cannot push ${q(subject)}: an index needs 1 to ${MAX_PLATFORMS} platforms, got ${req.manifests.length}`);
  const seen = new Set<string>();
  const checked: { platform: Platform; m: CheckedManifest }[] = [];
  for (const [i, c] of req.manifests.entries()) {
    const platform = checkedPlatform(c.platform, i);
    const name = JSON.stringify(platform);
    if (seen.has(name)) throw new ImgxError("USAGE", `Cannot push ${q(subject)}: platform ${formatPlatform(platform)} is listed twice`);
    seen.add(name);
    const m = await checkImage(client, repo, `${subject} (${formatPlatform(platform)})`, { ...c.image, format: req.form }, verified);
    checked.push({ platform, m });
  }
  for (const { platform, m } of checked) await putManifest(client, repo, m.digest, m, `${client.registry}/${repo}@${m.digest} (${formatPlatform(platform)})`);
  const mediaType = indexMediaType(req.form);
  const index = {
    schemaVersion: 2,
    mediaType,
    manifests: checked.map(({ platform, m }) => ({ mediaType: m.mediaType, size: m.bytes.length, digest: m.digest, platform })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(index, null, 2));
  const digest = sha256Bytes(bytes);
  await putManifest(client, repo, tag, { mediaType, bytes, digest }, subject);
  return { digest, mediaType, manifests: checked.map(({ platform, m }) => ({ platform: formatPlatform(platform), digest: m.digest, size: m.bytes.length })) };
}
