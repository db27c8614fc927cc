import type { Digest } from "./digest.ts";
import type { Descriptor, Parsed } from "./manifest.ts";

/**
 * The OCI 1.1 referrers tag schema: registries without the referrers API keep the list of a
 * subject's referrers as an image index tagged `<alg>-<hex>` ("sha256-…", hex cut to 64 chars).
 */
export function referrersTag(subject: Digest): string {
  const [alg, hex] = subject.split(":") as [string, string];
  return `${alg.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** The `subject` a manifest or index points at, if any. */
export function subjectOf(parsed: Parsed): Descriptor | undefined {
  return parsed.kind === "manifest" ? parsed.manifest.subject : parsed.kind === "index" ? parsed.index.subject : undefined;
}

/**
 * The descriptor a referrers list holds for an artifact: its own digest, size and type, plus
 * artifactType (the manifest's, else its config's media type, as the spec says) and annotations.
 */
export function referrerDescriptor(desc: Descriptor, parsed: Parsed): Descriptor {
  const out: Descriptor = { mediaType: parsed.mediaType, digest: desc.digest, size: desc.size };
  const at = parsed.kind === "manifest" ? (parsed.manifest.artifactType ?? parsed.manifest.config.mediaType) : parsed.kind === "index" ? parsed.index.artifactType : undefined;
  if (at) out.artifactType = at;
  const ann = parsed.kind === "manifest" ? parsed.manifest.annotations : parsed.kind === "index" ? parsed.index.annotations : undefined;
  if (ann) out.annotations = ann;
  return out;
}
