import { ImgxError, q } from "../core/errors.ts";
import { encodeJson } from "../core/json.ts";
import type { Descriptor, ImageManifest } from "../core/manifest.ts";
import { MT, familyOf, layerCompression, manifestMediaType, type Compression, type Family } from "../core/media-types.ts";
import { sha256Bytes } from "../core/digest.ts";
import type { ImageSink, ImageSource, ManifestData } from "../transports/types.ts";
import type { BlobInfoCache } from "./blob-info-cache.ts";
import { moveBlob, type BlobPlan, type MovedBlob } from "./blob-mover.ts";
import { convertConfigType, convertLayerType } from "./convert-types.ts";
import type { EventSink } from "./events.ts";
import { Limiter, SingleFlight } from "../core/limit.ts";
import { readConfigLoose } from "./config.ts";
import type { ImageName } from "../core/reference.ts";

export interface CopyContext {
  source: ImageSource;
  sink: ImageSink;
  emit: EventSink;
  /** Manifest family to write; undefined keeps each manifest's own. */
  family?: Family;
  /** Layer compression to write; undefined keeps each layer's own. */
  compress?: Compression;
  /** Compression for layers stored uncompressed, used when `compress` is undefined. */
  compressPlain?: Compression;
  /** Level for the layers compressed (validated by the pipeline); undefined: the default. */
  compressLevel?: number;
  mountFrom?: { registry: string; repository: string };
  limiter: Limiter;
  /** Layers being compressed at once (each already uses all cores). */
  gzipLimiter: Limiter;
  blobs: SingleFlight<MovedBlob>;
  cache?: BlobInfoCache;
  retries?: number;
}

const IMAGE_CONFIG_TYPES = [MT.dockerConfig, MT.ociConfig] as string[];

/** Copies one image manifest: its config and layers (in parallel, each once), then the manifest itself. */
export async function copyManifest(ctx: CopyContext, data: ManifestData, names: readonly ImageName[], top: boolean): Promise<Descriptor> {
  if (data.parsed.kind !== "manifest") throw new ImgxError("BAD_MANIFEST", `Cannot copy ${data.descriptor.digest}: expected an image manifest`);
  const m = data.parsed.manifest;
  const srcFamily = familyOf(data.parsed.mediaType);
  const family = ctx.family ?? srcFamily;
  const isImage = IMAGE_CONFIG_TYPES.includes(m.config.mediaType);
  const read = isImage ? await readConfigLoose(ctx.source, m.config) : undefined;
  const config = read?.config ? { bytes: read.bytes, config: read.config } : undefined;
  // layers stored uncompressed are gzipped on push by default; an artifact's are left as they are
  const lctx: CopyContext = config ? ctx : { ...ctx, compressPlain: undefined };
  if (!config) {
    // Not an image (an artifact, or an image-typed config that is not an image config): copied byte
    // for byte or not at all, since converting it would mean interpreting it.
    const why = read?.notImage ? "its config is not an image config" : `its config is ${q(m.config.mediaType)}, not an image config`;
    if (ctx.sink.caps.needsImageConfig)
      throw new ImgxError("UNSUPPORTED", `Cannot write ${data.descriptor.digest} from ${ctx.source.label} to ${ctx.sink.label}: it is not a container image (${why}), and that format holds only images`, {
        hint: "copy it to an OCI layout (oci:DIR), an OCI archive or a registry instead, which keep it as it is",
      });
    if (family !== srcFamily || layersChangeForm(lctx, m))
      throw new ImgxError("UNSUPPORTED", `Cannot convert ${data.descriptor.digest} from ${ctx.source.label}: it is not a container image (${why}), so it is copied only as it is`, {
        hint: "leave out --format/--compress for it (or copy it separately)",
      });
  }
  const configOut = { ...m.config, mediaType: convertConfigType(m.config.mediaType, family) };
  if (config && config.config.rootfs.diff_ids.length !== m.layers.length && layersChangeForm(ctx, m))
    throw new ImgxError("BAD_MANIFEST", `Cannot convert ${data.descriptor.digest}: ${m.layers.length} layers but ${config.config.rootfs.diff_ids.length} rootfs.diff_ids in its config`);
  const configMove = read
    ? ctx.blobs.do(`${m.config.digest}>keep`, () => ctx.limiter.run(() => putBytes(ctx, read.bytes, configOut)))
    : ctx.blobs.do(`${m.config.digest}>keep`, () => ctx.limiter.run(() => moveBlob(ctx, { src: m.config, mediaType: configOut.mediaType })));
  const layerMoves = m.layers.map((l, i) => {
    const plan = planLayer(lctx, l, family, config?.config.rootfs.diff_ids[i]);
    const key = `${l.digest}>${plan.recompress?.to ?? "keep"}`;
    // compression already spreads one layer over every core (gzip-blocks.ts): two layers at a time (pipeline.ts), not more
    const limiter = plan.recompress && plan.recompress.to !== "none" ? ctx.gzipLimiter : ctx.limiter;
    return ctx.blobs.do(key, () => limiter.run(() => moveBlob(ctx, plan)));
  });
  const [cfg, ...layers] = await Promise.all([configMove, ...layerMoves]);

  const outLayers = layers.map((r, i) => withExtras(r!.desc, m.layers[i]!));
  const outConfig = withExtras(cfg!.desc, m.config);
  const changed = family !== srcFamily || !sameDesc(outConfig, m.config) || outLayers.some((l, i) => !sameDesc(l, m.layers[i]!));
  const bytes = changed ? encodeJson(rebuildManifest(m, family, outConfig, outLayers)) : data.bytes;
  const desc: Descriptor = {
    mediaType: changed ? manifestMediaType(family) : data.parsed.mediaType,
    digest: changed ? sha256Bytes(bytes) : data.descriptor.digest,
    size: bytes.byteLength,
  };
  if (data.descriptor.platform) desc.platform = data.descriptor.platform;
  else if (config) {
    const c = config.config;
    desc.platform = { os: c.os, architecture: c.architecture, ...(c.variant ? { variant: c.variant } : {}) };
  }
  await ctx.sink.putManifest(desc, bytes, names, top);
  ctx.emit({ type: "manifest", digest: desc.digest, mediaType: desc.mediaType, size: desc.size, names: names.map((n) => n.given) });
  return desc;
}

function layersChangeForm(ctx: CopyContext, m: ImageManifest): boolean {
  return m.layers.some((l) => {
    const from = layerCompression(l.mediaType);
    const to = ctx.compress ?? (from === "none" ? ctx.compressPlain : undefined);
    return from !== undefined && to !== undefined && to !== from;
  });
}

function planLayer(ctx: CopyContext, l: Descriptor, family: Family, diffId: Descriptor["digest"] | undefined): BlobPlan {
  const from = layerCompression(l.mediaType);
  const to = ctx.compress ?? (from === "none" ? ctx.compressPlain : undefined);
  // Foreign layers (with urls) are not ours to fetch or change; unknown types are copied as they are.
  if (from === undefined || l.urls?.length || to === undefined || to === from)
    return { src: l, mediaType: convertLayerType(l.mediaType, family, undefined) };
  if (!diffId) throw new ImgxError("BAD_MANIFEST", `Cannot recompress layer ${q(l.digest)}: its config lists no diff_id for it`);
  return { src: l, mediaType: convertLayerType(l.mediaType, family, to), recompress: { from, to, diffId, level: ctx.compressLevel } };
}

export async function putBytes(ctx: CopyContext, bytes: Uint8Array, desc: Descriptor): Promise<MovedBlob> {
  const started = performance.now();
  let state: MovedBlob["state"] = "exists";
  if (!(await ctx.sink.hasBlob(desc))) {
    if (ctx.mountFrom && ctx.sink.mountBlob && (await ctx.sink.mountBlob(desc, ctx.mountFrom))) state = "mounted";
    else {
      await ctx.sink.putBlob({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, stream: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(), result: () => ({ digest: desc.digest, size: desc.size }) });
      state = "copied";
    }
  }
  ctx.emit({ type: "blob-done", digest: desc.digest, size: desc.size, mediaType: desc.mediaType, state, outDigest: desc.digest, seconds: (performance.now() - started) / 1000 });
  return { desc, state };
}

function withExtras(out: Descriptor, orig: Descriptor): Descriptor {
  const d: Descriptor = { mediaType: out.mediaType, digest: out.digest, size: out.size };
  if (orig.urls) d.urls = orig.urls;
  if (orig.annotations) d.annotations = orig.annotations;
  return d;
}

function sameDesc(a: Descriptor, b: Descriptor): boolean {
  return a.digest === b.digest && a.size === b.size && a.mediaType === b.mediaType;
}

function rebuildManifest(m: ImageManifest, family: Family, config: Descriptor, layers: Descriptor[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemaVersion: 2, mediaType: manifestMediaType(family) };
  if (family === "oci" && m.artifactType) out.artifactType = m.artifactType;
  out.config = config;
  out.layers = layers;
  if (family === "oci" && m.subject) out.subject = m.subject;
  if (m.annotations) out.annotations = m.annotations;
  return out;
}
