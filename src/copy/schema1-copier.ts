import { DigestCounter, sha256Bytes, type Digest } from "../core/digest.ts";
import { ImgxError } from "../core/errors.ts";
import { encodeJson } from "../core/json.ts";
import type { Descriptor } from "../core/manifest.ts";
import { MT, manifestMediaType, type Family } from "../core/media-types.ts";
import { schema1Config } from "../core/schema1-config.ts";
import type { ImageSource, ManifestData } from "../transports/types.ts";
import { moveBlob, type BlobPlan } from "./blob-mover.ts";
import { convertLayerType } from "./convert-types.ts";
import { putBytes, type CopyContext } from "./image-copier.ts";
import { decompress, verifyStream } from "./streams.ts";
import type { ImageName } from "../core/reference.ts";

/**
 * Copies a Docker schema 1 image as schema 2 (or OCI with --format oci / an OCI sink), the way
 * skopeo converts it: layers oldest first, `throwaway` (empty) layers dropped, and a config
 * synthesised from the newest v1Compatibility whose rootfs.diff_ids are computed by decompressing
 * each layer once while it streams to the sink. Schema 1 itself is never written.
 */
export async function copySchema1(ctx: CopyContext, data: ManifestData, names: readonly ImageName[], top: boolean): Promise<Descriptor> {
  if (data.parsed.kind !== "schema1") throw new ImgxError("BAD_MANIFEST", `Cannot copy ${data.descriptor.digest}: expected a schema 1 manifest`);
  const { schema1: s1, sizes } = data.parsed;
  const family: Family = ctx.family ?? "docker";
  const what = (d: Digest) => `blob ${d} from ${ctx.source.label}`;
  // the layer's diff_id, hashed beside the copy when the layer keeps its gzip form (or changes to another compression)
  const diffIds = new Map<Digest, Promise<Digest>>();
  const side = new Set<Digest>();
  const source = withDiffIds(ctx.source, side, diffIds, what);

  const layers = s1.layers.filter((l) => !l.throwaway);
  const to = ctx.compress === "gzip" ? undefined : ctx.compress;
  const moved = await Promise.all(
    layers.map(async (l) => {
      const src: Descriptor = { mediaType: MT.dockerLayerGzip, digest: l.blobSum, size: sizes.get(l.blobSum)! };
      const plan: BlobPlan = to === undefined ? { src, mediaType: convertLayerType(src.mediaType, family, undefined) } : { src, mediaType: convertLayerType(src.mediaType, family, to), recompress: { from: "gzip", to, level: ctx.compressLevel } };
      if (to !== "none") side.add(l.blobSum);
      const key = `${l.blobSum}>${to ?? "keep"}`;
      const limiter = to !== undefined && to !== "none" ? ctx.gzipLimiter : ctx.limiter;
      const r = await ctx.blobs.do(key, () => limiter.run(() => moveBlob({ ...ctx, source }, plan)));
      // uncompressed output: its digest is the diff_id; otherwise the side hash, or (the sink had the blob) one read for it
      const diffId = to === "none" ? r.desc.digest : await (diffIds.get(l.blobSum) ?? readDiffId(ctx.source, src, what(src.digest)));
      return { desc: { mediaType: r.desc.mediaType, digest: r.desc.digest, size: r.desc.size }, diffId };
    }),
  );

  const configBytes = schema1Config(s1.layers, moved.map((m) => m.diffId), family);
  const config: Descriptor = { mediaType: family === "docker" ? MT.dockerConfig : MT.ociConfig, digest: sha256Bytes(configBytes), size: configBytes.byteLength };
  await ctx.blobs.do(`${config.digest}>keep`, () => ctx.limiter.run(() => putBytes(ctx, configBytes, config)));
  const bytes = encodeJson({ schemaVersion: 2, mediaType: manifestMediaType(family), config, layers: moved.map((m) => m.desc) });
  const newest = s1.layers[s1.layers.length - 1]!.v1;
  const desc: Descriptor = { mediaType: manifestMediaType(family), digest: sha256Bytes(bytes), size: bytes.byteLength };
  if (typeof newest.os === "string" && typeof newest.architecture === "string")
    desc.platform = { os: newest.os, architecture: newest.architecture, ...(typeof newest.variant === "string" ? { variant: newest.variant } : {}) };
  await ctx.sink.putManifest(desc, bytes, names, top);
  ctx.emit({ type: "manifest", digest: desc.digest, mediaType: desc.mediaType, size: desc.size, names: names.map((n) => n.given) });
  return desc;
}

/**
 * The source, with each read of a layer in `side` also decompressed and hashed on the way (its
 * diff_id). The hash runs in step with the copy (each chunk is handed on only once the
 * decompressor took it), so a slow sink never makes it buffer. No resuming: a partial download
 * would leave the diff_id without its first bytes.
 */
function withDiffIds(source: ImageSource, side: Set<Digest>, diffIds: Map<Digest, Promise<Digest>>, what: (d: Digest) => string): ImageSource {
  return {
    label: source.label,
    mountFrom: source.mountFrom,
    images: () => source.images(),
    manifest: (d) => source.manifest(d),
    blobFrom: async () => ({ rangeIgnored: true }),
    close: () => source.close(),
    blob: async (desc, read) => {
      const body = await source.blob(desc, read);
      if (!side.has(desc.digest)) return body;
      const feed = new TransformStream<Uint8Array, Uint8Array>();
      const writer = feed.writable.getWriter();
      const diffId = hashAll(decompress(feed.readable, "gzip", what(desc.digest)));
      diffId.catch(() => {}); // awaited by the caller, or its failure reaches the copy below
      diffIds.set(desc.digest, diffId);
      // a decompressor failure is reported as the bad data it is, not as the cancelled write it causes
      const failed = async (e: unknown): Promise<never> => {
        await diffId;
        throw e;
      };
      return body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          async transform(chunk, c) {
            c.enqueue(chunk);
            await writer.write(chunk).catch(failed);
          },
          async flush() {
            await writer.close().catch(failed);
          },
        }),
      );
    },
  };
}

async function hashAll(stream: ReadableStream<Uint8Array>): Promise<Digest> {
  const h = new DigestCounter();
  for await (const c of stream) h.update(c);
  return h.digest();
}

/** A layer's diff_id when the sink already had the layer: one verified read, decompressed and hashed. */
async function readDiffId(source: ImageSource, desc: Descriptor, what: string): Promise<Digest> {
  const v = verifyStream(desc, what);
  return hashAll(decompress((await source.blob(desc)).pipeThrough(v.stream), "gzip", what));
}
