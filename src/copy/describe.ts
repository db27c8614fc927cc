import { MT } from "../core/media-types.ts";
import type { ParsedSchema1 } from "../core/schema1.ts";
import { formatPlatform } from "../core/platform.ts";
import type { ImageSource, ManifestData } from "../transports/types.ts";
import { selectChildren, type PlatformChoice } from "./select.ts";
import { readConfigLoose } from "./config.ts";
import { MAX_CONFIG_BYTES } from "../core/json.ts";

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
  /** Docker schema 1 (read-only; converted on pull/copy): whether it is signed, how many empty layers it drops. */
  schema1?: { signed: boolean; emptyLayers: number };
  /** Set when the manifest is not a container image (no image config): its artifactType, else its config's media type. */
  artifactType?: string;
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
    if (m?.parsed.kind === "schema1") describeSchema1(d, m.parsed.schema1, m.parsed.sizes, m.parsed.mediaType === MT.dockerSchema1Signed);
    if (m?.parsed.kind === "manifest") {
      const man = m.parsed.manifest;
      d.layers = man.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
      d.totalSize = man.layers.reduce((a, l) => a + l.size, 0) + man.config.size;
      const isImage = man.config.mediaType === MT.dockerConfig || man.config.mediaType === MT.ociConfig;
      // an artifact's config is shown as it is (`inspect --config` prints it, like skopeo); a huge one is left out
      if (isImage || man.config.size <= MAX_CONFIG_BYTES) {
        const { bytes, config } = await readConfigLoose(source, man.config);
        d.raw.config = bytes;
        const c = config?.config ?? {};
        if (config)
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
      if (!d.config) d.artifactType = man.artifactType ?? man.config.mediaType;
    }
    out.push(d);
  }
  return out;
}

/** A schema 1 image as it would be converted: layers oldest first without the empty ones, config from the newest v1Compatibility. */
function describeSchema1(d: ImageDescription, s1: ParsedSchema1, sizes: Map<string, number>, signed: boolean): void {
  const layers = s1.layers.filter((l) => !l.throwaway);
  d.layers = layers.map((l) => ({ digest: l.blobSum, size: sizes.get(l.blobSum) ?? 0, mediaType: MT.dockerLayerGzip }));
  d.totalSize = d.layers.reduce((a, l) => a + l.size, 0);
  const v = s1.layers[s1.layers.length - 1]!.v1;
  const c = (v.config ?? {}) as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" && x ? x : undefined);
  const list = (x: unknown) => (Array.isArray(x) ? (x as string[]) : undefined);
  d.config = {
    os: str(v.os) ?? "",
    architecture: str(v.architecture) ?? "",
    variant: str(v.variant),
    created: str(v.created),
    entrypoint: list(c.Entrypoint),
    cmd: list(c.Cmd),
    workingDir: str(c.WorkingDir),
    user: str(c.User),
    env: list(c.Env),
    labels: (c.Labels ?? undefined) as Record<string, string> | undefined,
  };
  d.schema1 = { signed, emptyLayers: s1.layers.length - layers.length };
}
