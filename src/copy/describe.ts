import { MT } from "../core/media-types.ts";
import { formatPlatform } from "../core/platform.ts";
import type { ImageSource, ManifestData } from "../transports/types.ts";
import { selectChildren, type PlatformChoice } from "./select.ts";
import { readConfig } from "./config.ts";

export interface ImageDescription {
  names: string[];
  digest: string;
  mediaType: string;
  size: number;
  /** Present for an index: each child's platform and digest. */
  platforms?: { platform: string; digest: string; mediaType: string; size: number }[];
  /** The image manifest described below (the index's selected child, or the top manifest). */
  manifest?: { digest: string; mediaType: string; platform?: string };
  config?: {
    os: string;
    architecture: string;
    variant?: string;
    created?: string;
    entrypoint?: string[] | null;
    cmd?: string[] | null;
    workingDir?: string;
    user?: string;
    env?: string[] | null;
    labels?: Record<string, string> | null;
  };
  layers?: { digest: string; size: number; mediaType: string }[];
  totalSize?: number;
  /** Exact bytes: the top manifest/index, the selected manifest, and the config. */
  raw: { top: Uint8Array; manifest?: Uint8Array; config?: Uint8Array };
}

/** Describes every image a source selects; for an index, also the child matching `choice` (unless it keeps all). */
export async function describeSource(source: ImageSource, choice: PlatformChoice): Promise<ImageDescription[]> {
  const out: ImageDescription[] = [];
  for (const img of await source.images()) {
    const top = await source.manifest(img.descriptor);
    const d: ImageDescription = { names: img.names, digest: top.descriptor.digest, mediaType: top.parsed.mediaType, size: top.bytes.byteLength, raw: { top: top.bytes } };
    let m: ManifestData | undefined = top;
    while (m?.parsed.kind === "index") {
      d.platforms ??= m.parsed.index.manifests.map((c) => ({ platform: c.platform ? formatPlatform(c.platform) : "unknown", digest: c.digest, mediaType: c.mediaType, size: c.size }));
      if (choice.all) {
        m = undefined;
        break;
      }
      const [child] = selectChildren(m.parsed.index, { all: false, platforms: choice.platforms.slice(0, 1) }, `${source.label} (${m.descriptor.digest})`);
      m = await source.manifest(child!);
      d.manifest = { digest: child!.digest, mediaType: m.parsed.mediaType, platform: child!.platform ? formatPlatform(child!.platform) : undefined };
      d.raw.manifest = m.bytes;
    }
    if (m?.parsed.kind === "manifest") {
      const man = m.parsed.manifest;
      d.layers = man.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
      d.totalSize = man.layers.reduce((a, l) => a + l.size, 0) + man.config.size;
      if (man.config.mediaType === MT.dockerConfig || man.config.mediaType === MT.ociConfig) {
        const { bytes, config } = await readConfig(source, man.config);
        d.raw.config = bytes;
        const c = config.config ?? {};
        d.config = {
          os: config.os,
          architecture: config.architecture,
          variant: config.variant,
          created: config.created,
          entrypoint: c.Entrypoint,
          cmd: c.Cmd,
          workingDir: c.WorkingDir || undefined,
          user: c.User || undefined,
          env: c.Env,
          labels: c.Labels,
        };
      }
    }
    out.push(d);
  }
  return out;
}
