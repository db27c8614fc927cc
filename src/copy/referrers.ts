import { ImgxError, q } from "../core/errors.ts";
import type { Descriptor } from "../core/manifest.ts";
import type { CopyContext } from "./image-copier.ts";
import { copyManifest } from "./image-copier.ts";
import { copyTop } from "./index-copier.ts";

/** Referrers of referrers (a signature on an SBOM) are followed this deep; more is a loop or an abuse. */
const MAX_DEPTH = 8;
const MAX_ARTIFACTS = 10_000;

/**
 * Copies every artifact whose `subject` is one of `subjects` (signatures, SBOMs, attestations),
 * and theirs in turn, exactly as they are: an artifact's digest is what its own referrers and
 * verifiers name, so it is never converted. The sink files each one under its subject (registry:
 * the referrers API or the fallback tag; layout: index.json). Returns how many were copied.
 */
export async function copyReferrers(ctx: CopyContext, subjects: Descriptor[]): Promise<number> {
  const source = ctx.source;
  if (!source.referrers) return 0;
  const asIs: CopyContext = { ...ctx, family: undefined, compress: undefined, compressPlain: undefined };
  const seen = new Set(subjects.map((s) => s.digest));
  let level = subjects;
  let copied = 0;
  for (let depth = 0; level.length && depth < MAX_DEPTH; depth++) {
    const found = await Promise.all(level.map(async (s) => ({ subject: s, list: await source.referrers!(s) })));
    const next: Descriptor[] = [];
    for (const { subject, list } of found) {
      for (const d of list) {
        if (seen.has(d.digest)) continue;
        seen.add(d.digest);
        if (++copied > MAX_ARTIFACTS) throw new ImgxError("UNSUPPORTED", `Cannot carry the referrers of ${q(subjects[0]?.digest)}: more than ${MAX_ARTIFACTS} artifacts`);
        const data = await source.manifest({ mediaType: d.mediaType, digest: d.digest, size: d.size });
        const out = data.parsed.kind === "index" ? await copyTop(asIs, data, [], { all: true }) : await copyManifest(asIs, data, [], true);
        if (out.digest !== d.digest) throw new ImgxError("BAD_MANIFEST", `Cannot carry referrer ${q(d.digest)} of ${q(subject.digest)}: it would be written as ${q(out.digest)}`);
        ctx.emit({ type: "referrer", digest: d.digest, subject: subject.digest, mediaType: data.parsed.mediaType, artifactType: d.artifactType });
        next.push(d);
      }
    }
    level = next;
  }
  return copied;
}
