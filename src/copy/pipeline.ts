import type { Digest } from "../core/digest.ts";
import { ImgxError } from "../core/errors.ts";
import type { Compression, Family } from "../core/media-types.ts";
import type { Descriptor } from "../core/manifest.ts";
import type { ImageSink, ImageSource } from "../transports/types.ts";
import type { BlobState, CopyEvent, EventSink } from "./events.ts";
import type { CopyContext } from "./image-copier.ts";
import type { BlobInfoCache } from "./blob-info-cache.ts";
import { blockCodec } from "./block-compress.ts";
import { copyTop } from "./index-copier.ts";
import { WorkerPools } from "./worker-pool.ts";
import { Limiter, SingleFlight } from "../core/limit.ts";
import { copyReferrers } from "./referrers.ts";
import type { MovedBlob } from "./blob-mover.ts";
import type { PlatformChoice } from "./select.ts";
import { parseImageName } from "../core/reference.ts";

export interface CopyOptions {
  platforms: PlatformChoice;
  /** Layer compression to write; "keep" (default) leaves layers as they are unless the sink requires a form. */
  compress?: Compression | "keep";
  /** When compress is not set: compression for layers stored uncompressed (push gzips docker-save layers). */
  compressUncompressed?: Compression;
  /** Compression level for the layers compressed (gzip 1–12, zstd 1–22); default per algorithm (block-compress.ts). */
  compressLevel?: number;
  /** Manifest family to write; default: what the sink requires, else what the source has. */
  format?: Family;
  /** Names for the copied image; default: the names the source gives it. */
  names?: string[];
  concurrency?: number;
  /** Repository to try cross-mounting blobs from (same registry); default: the source's own. */
  mountFrom?: { registry: string; repository: string };
  onEvent?: EventSink;
  /** Remembers compressed digests of recompressed layers so a re-push can skip them. */
  blobInfoCache?: BlobInfoCache;
  /** Attempts for a blob whose connection broke mid-transfer. */
  retries?: number;
  /** Worker threads to use (a server shares one set across copies); default: the copy's own, ended with it. */
  workers?: WorkerPools;
  /** Stops the copy: the sink is aborted (leaving nothing half-written) and the copy rejects with the reason. */
  signal?: AbortSignal;
  /** Also copy every artifact whose `subject` is a manifest copied unchanged (see copy/referrers.ts). */
  referrers?: boolean;
  /**
   * Blob transfers shared by several copies running at once into the same place (sync: one per
   * destination repository or bundle), so a layer two images share is written once, not raced.
   */
  blobFlights?: SingleFlight<MovedBlob>;
}

export interface CopyResult {
  images: { digest: Digest; mediaType: string; names: string[] }[];
  bytes: number;
  blobs: Record<BlobState, number>;
  /** Artifacts carried along (--referrers). */
  referrers: number;
  seconds: number;
}

function copyContext(source: ImageSource, sink: ImageSink, opts: CopyOptions, emit: EventSink): CopyContext & { workers: WorkerPools } {
  const forced = sink.caps.layerCompression;
  return {
    source,
    sink,
    emit,
    family: opts.format ?? sink.caps.family,
    compress: forced ?? (opts.compress === "keep" ? undefined : opts.compress),
    compressPlain: opts.compress === undefined ? opts.compressUncompressed : undefined,
    compressLevel: opts.compressLevel,
    mountFrom: opts.mountFrom ?? source.mountFrom,
    limiter: new Limiter(Math.max(1, Math.min(opts.concurrency ?? 6, sink.caps.maxConcurrentWrites))),
    // into a registry, two layers are compressed at once: while one waits on its upload (the
    // registry hashing and storing it, the PUT that ends it) the other keeps the workers busy. push
    // of the real-file corpus: 7.2–7.5 s instead of 7.8–8.3 s; a third added nothing. Into local
    // files it made no difference but took 10–20 MiB more memory, so one at a time there.
    gzipLimiter: new Limiter(sink.caps.remote ? 2 : 1),
    blobs: opts.blobFlights ?? new SingleFlight<MovedBlob>(),
    cache: opts.blobInfoCache,
    retries: opts.retries,
    workers: opts.workers ?? new WorkerPools(),
  };
}

/**
 * Only the referrers of `subject`, for an image already at the destination (a sync that finds it
 * current): returns how many artifacts were copied.
 */
export async function carryReferrers(source: ImageSource, sink: ImageSink, subject: Descriptor, opts: CopyOptions): Promise<number> {
  const ctx = copyContext(source, sink, opts, (e) => opts.onEvent?.(e));
  try {
    const n = await copyReferrers(ctx, [subject]);
    await sink.commit();
    return n;
  } finally {
    if (!opts.workers) ctx.workers.close();
  }
}

/**
 * The one copy pipeline behind pull, push, convert and copy: every image the source offers goes
 * to the sink, each blob streamed once while it is hashed; the sink commits only if all succeeded.
 */
export async function copyImages(source: ImageSource, sink: ImageSink, opts: CopyOptions): Promise<CopyResult> {
  const started = performance.now();
  const result: CopyResult = { images: [], bytes: 0, blobs: { copied: 0, exists: 0, mounted: 0 }, referrers: 0, seconds: 0 };
  // manifests written for the current image: the subjects whose referrers --referrers carries
  let written: Descriptor[] = [];
  const emit = (e: CopyEvent) => {
    if (e.type === "manifest") written.push({ mediaType: e.mediaType, digest: e.digest, size: e.size });
    if (e.type === "blob-done") {
      result.blobs[e.state]++;
      if (e.state === "copied") result.bytes += e.size;
    }
    opts.onEvent?.(e);
  };
  const forced = sink.caps.layerCompression;
  if (forced !== undefined && opts.compress && opts.compress !== "keep" && opts.compress !== forced)
    throw new ImgxError("USAGE", `Cannot use --compress ${opts.compress} with ${sink.label}: that format stores ${forced === "none" ? "uncompressed" : forced} layers`);
  if (opts.referrers && !source.referrers) throw new ImgxError("USAGE", `Cannot use --referrers with ${source.label}: that format holds no artifacts referring to an image`);
  if (opts.referrers && !sink.caps.referrers) throw new ImgxError("USAGE", `Cannot use --referrers with ${sink.label}: that format cannot hold artifacts referring to an image`, { hint: "use a registry, oci: or oci-archive: destination" });
  if (opts.format && sink.caps.family && opts.format !== sink.caps.family)
    throw new ImgxError("USAGE", `Cannot use --format ${opts.format} with ${sink.label}: that format stores ${sink.caps.family} manifests`);
  const ctx = copyContext(source, sink, opts, emit);
  if (opts.compressLevel !== undefined) checkLevel(opts.compressLevel, ctx.compress ?? ctx.compressPlain);
  const signal = opts.signal;
  const onAbort = () => void sink.abort(signal!.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    const images = await source.images();
    if (images.length === 0) throw new ImgxError("NOT_FOUND", `Cannot copy from ${source.label}: it holds no images`);
    if (images.length > 1 && (!sink.caps.multiImage || opts.names?.length)) {
      const list = images.map((i) => i.names[0] ?? i.descriptor.digest).join(", ");
      throw new ImgxError("USAGE", `Cannot copy ${images.length} images from ${source.label} to ${sink.label}: name one of ${list}`);
    }
    for (const img of images) {
      const data = await source.manifest(img.descriptor);
      const names = opts.names?.length ? opts.names : img.names;
      written = [];
      const desc = await copyTop(ctx, data, names.map(parseImageName), opts.platforms);
      // a manifest converted on the way has a new digest no artifact names: it finds none
      if (opts.referrers) result.referrers += await copyReferrers(ctx, [...written]);
      result.images.push({ digest: desc.digest, mediaType: desc.mediaType, names });
    }
    await sink.commit();
    await opts.blobInfoCache?.save();
  } catch (e) {
    await opts.blobInfoCache?.save();
    await sink.abort(e).catch(() => {});
    // what broke after an abort is a consequence of it; the reason is what the caller needs
    throw signal?.aborted ? signal.reason : e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!opts.workers) ctx.workers.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  emit({ type: "summary", images: result.images, bytes: result.bytes, blobs: result.blobs, ...(opts.referrers ? { referrers: result.referrers } : {}), seconds: result.seconds });
  return result;
}

/** A level needs something to compress, at a level that compressor has; checked before any work starts. */
function checkLevel(level: number, algo: Compression | undefined): void {
  if (algo === undefined || algo === "none")
    throw new ImgxError("USAGE", `Cannot use --compress-level ${level}: no layer is compressed by this copy`, { hint: "add --compress gzip or --compress zstd" });
  blockCodec(algo, level);
}
