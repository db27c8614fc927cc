import { encodeJson } from "../core/json.ts";
import type { Descriptor } from "../core/manifest.ts";
import { MT } from "../core/media-types.ts";
import { splitImageName, formatReference } from "../core/reference.ts";
import { CONTAINERD_NAME, REF_NAME } from "./oci-layout-reader.ts";

export const OCI_LAYOUT_BYTES = new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}');

/**
 * The top-level entries of an index.json being written. Names follow Docker 25's convention:
 * ref.name holds the tag, io.containerd.image.name the full reference (when there is one).
 */
export class IndexEntries {
  readonly entries: Descriptor[];
  constructor(existing: Descriptor[] = []) {
    this.entries = [...existing];
  }

  add(desc: Descriptor, names: string[]): void {
    const base: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    if (desc.platform) base.platform = desc.platform;
    if (names.length === 0) {
      // an unnamed image already listed (named or not) needs no second entry
      if (!this.entries.some((e) => e.digest === desc.digest)) this.entries.push(base);
      return;
    }
    for (const name of names) {
      const { ref, tag } = splitImageName(name);
      const full = ref ? formatReference(ref) : undefined;
      const annotations: Record<string, string> = { [REF_NAME]: tag };
      if (full) annotations[CONTAINERD_NAME] = full;
      // A name moves to the new image: drop entries carrying the same name. A bare tag is looked up
      // by ref.name alone (skopeo, umoci), so any entry with that ref.name would make it ambiguous.
      for (let i = this.entries.length - 1; i >= 0; i--) {
        const e = this.entries[i]!;
        const a = e.annotations;
        const same = full ? a?.[CONTAINERD_NAME] === full || (!a?.[CONTAINERD_NAME] && a?.[REF_NAME] === tag) : a?.[REF_NAME] === tag;
        // other names this same image carries (e.g. "a:1" beside bare "1") stay; an exact repeat goes
        const repeat = e.digest === desc.digest && (!a || (a[REF_NAME] === tag && a[CONTAINERD_NAME] === full));
        if ((same && e.digest !== desc.digest) || repeat) this.entries.splice(i, 1);
      }
      this.entries.push({ ...base, annotations });
    }
  }

  bytes(): Uint8Array {
    return encodeJson({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: this.entries });
  }
}
