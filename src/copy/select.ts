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
    if (!best) {
      const avail = usable.map((m) => (m.platform ? formatPlatform(m.platform) : "unknown")).filter((p) => p !== "unknown/unknown");
      throw new ImgxError("PLATFORM_NOT_FOUND", `Cannot select platform ${formatPlatform(want)} from ${what}: available: ${avail.join(", ") || "none"}`, {
        hint: "pass --platform with one of these, or --all-platforms",
      });
    }
    if (!picked.includes(best)) picked.push(best);
  }
  return picked;
}

