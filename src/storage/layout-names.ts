import { digestHex, parseDigest } from "../core/digest.ts";
import type { Descriptor } from "../core/manifest.ts";
import { formatReference, parseDockerReference } from "../core/reference.ts";

/**
 * Names and paths inside an OCI image layout, in one place: the annotations that name an image in
 * index.json and where a blob lives. Readers and writers of layouts, OCI archives and Docker 25+
 * docker-saves all use these.
 */

export const REF_NAME = "org.opencontainers.image.ref.name";
export const CONTAINERD_NAME = "io.containerd.image.name";
export const BLOBS_DIR = "blobs/sha256";

/** `blobs/sha256/<hex>`: where a blob lives in a layout (validates the digest). */
export function blobPath(digest: string): string {
  return `${BLOBS_DIR}/${digestHex(parseDigest(digest))}`;
}

/** Full reference in canonical form, or undefined when the string is not a reference. */
export function canonicalName(name: string): string | undefined {
  try {
    return formatReference(parseDockerReference(name));
  } catch {
    return undefined;
  }
}

/** The names an index.json entry carries: containerd's full name first, else ref.name. */
export function namesOf(d: Descriptor): string[] {
  const full = d.annotations?.[CONTAINERD_NAME];
  if (full) return [full];
  const ref = d.annotations?.[REF_NAME];
  return ref ? [ref] : [];
}
