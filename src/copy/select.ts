import { ImgxError } from "../core/errors.ts";
import type { Descriptor, ImageIndex } from "../core/manifest.ts";
import { isIndexType, isManifestType } from "../core/media-types.ts";
import { formatPlatform, platformScore, type Platform } from "../core/platform.ts";

export type PlatformChoice = { all: true } | { all: false; platforms: Platform[] };

/** Children of an index that the choice keeps: all of them, or the best match for each wanted platform. */
export function selectChildren(index: ImageIndex, choice: PlatformChoice, what: string): Descriptor[] {
  const usable = index.manifests.filter((m) => isManifestType(m.mediaType) || isIndexType(m.mediaType) || choice.all);
  if (choice.all) return usable;
  const picked: Descriptor[] = [];
  for (const want of choice.platforms) {
    let best: Descriptor | undefined;
    let bestScore = -1;
    for (const m of usable) {
      const s = platformScore(want, m.platform);
      if (s > bestScore) {
        best = m;
        bestScore = s;
      }
    }
    // No entry carries a platform (artifact indexes, go-containerregistry's test_index): the
    // platform-less entries are the only candidates, and skopeo takes the first of them.
    if (!best && usable.every((m) => !m.platform)) best = usable.find((m) => isManifestType(m.mediaType) || isIndexType(m.mediaType));
    if (!best) {
      const avail = usable.filter((m) => m.platform && formatPlatform(m.platform) !== "unknown/unknown").map((m) => formatPlatform(m.platform!));
      const bare = usable.length - avail.length;
      const list = [...new Set(avail)].join(", ") || "none";
      throw new ImgxError("PLATFORM_NOT_FOUND", `Cannot select platform ${formatPlatform(want)} from ${what}: available: ${list}${bare ? ` (and ${bare} ${bare === 1 ? "entry" : "entries"} without a platform)` : ""}`, {
        hint: avail.length ? `pass --platform ${avail[0]} (or another listed one), or --all-platforms to keep the whole index` : "pass --all-platforms to keep the whole index",
      });
    }
    if (!picked.includes(best)) picked.push(best);
  }
  return picked;
}

