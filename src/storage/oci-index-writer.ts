import { encodeJson } from "../core/json.ts";
import type { Descriptor } from "../core/manifest.ts";
import { MT } from "../core/media-types.ts";
import { formatReference, type ImageName } from "../core/reference.ts";
import { CONTAINERD_NAME, REF_NAME, canonicalName } from "./layout-names.ts";

export const OCI_LAYOUT_BYTES = new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}');

/**
 * How a name is written into index.json:
 * - "as-given" (OCI layouts and archives, skopeo's convention): ref.name is the name exactly as the
 *   user or the source gave it ("a/one:v1", "1.2"), so `oci:DIR:a/one:v1` finds it again in skopeo
 *   and umoci, and two repositories with one tag stay apart;
 * - "tag" (the OCI layout inside a docker-save, Docker 25's convention): ref.name is the tag alone.
 * Either way a full reference also gets io.containerd.image.name (its normalised form).
 */
export type RefNameStyle = "as-given" | "tag";

/** The top-level entries of an index.json being written. */
export class IndexEntries {
  readonly entries: Descriptor[];
  /** Images this copy wrote: one that loses its name to a later image of the same copy stays, unnamed. */
  private readonly added = new Set<string>();
  constructor(
    existing: Descriptor[] = [],
    private readonly style: RefNameStyle = "as-given",
  ) {
    this.entries = [...existing];
  }

  add(desc: Descriptor, names: readonly ImageName[]): void {
    this.added.add(desc.digest);
    const base: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    if (desc.platform) base.platform = desc.platform;
    if (names.length === 0) {
      // an unnamed image already listed (named or not) needs no second entry
      if (!this.entries.some((e) => e.digest === desc.digest)) this.entries.push(base);
      return;
    }
    for (const { given, ref, tag } of names) {
      const full = ref ? formatReference(ref) : undefined;
      const refName = this.style === "tag" ? tag : given;
      const annotations: Record<string, string> = { [REF_NAME]: refName };
      if (full) annotations[CONTAINERD_NAME] = full;
      // A name moves to the new image: drop entries carrying the same name. A ref.name is looked up
      // as it is (skopeo, umoci), so any entry with that ref.name would make it ambiguous.
      for (let i = this.entries.length - 1; i >= 0; i--) {
        const e = this.entries[i]!;
        const a = e.annotations;
        const same = a?.[REF_NAME] === refName || (full !== undefined && (a?.[CONTAINERD_NAME] ?? canonicalName(a?.[REF_NAME] ?? "")) === full);
        // other names this same image carries (e.g. "a:1" beside bare "1") stay; an exact repeat goes
        const repeat = e.digest === desc.digest && (!a || (a[REF_NAME] === refName && a[CONTAINERD_NAME] === full));
        if ((same && e.digest !== desc.digest) || repeat) {
          this.entries.splice(i, 1);
          // a source holding two images under one name (containers/image's two_identical_references):
          // the copy keeps both, the earlier one without the name, rather than drop an image it copied
          const orphan = same && e.digest !== desc.digest && this.added.has(e.digest) && !this.entries.some((x) => x.digest === e.digest);
          if (orphan) this.entries.splice(i, 0, { mediaType: e.mediaType, digest: e.digest, size: e.size, ...(e.platform ? { platform: e.platform } : {}) });
        }
      }
      this.entries.push({ ...base, annotations });
    }
  }

  bytes(): Uint8Array {
    return encodeJson({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: this.entries });
  }
}
