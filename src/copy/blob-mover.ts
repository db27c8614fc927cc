import { tmpdir } from "node:os";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { Attempts } from "../core/attempts.ts";
import type { Digest } from "../core/digest.ts";
import { ImgxError, isImgxError, isIntegrityError, q } from "../core/errors.ts";
import type { Descriptor } from "../core/manifest.ts";
import type { Compression } from "../core/media-types.ts";
import { SPOOL_PREFIX } from "../storage/archive-file.ts";
import type { BlobInput, ImageSink, ImageSource } from "../transports/types.ts";
import type { BlobInfoCache } from "./blob-info-cache.ts";
import type { BlobState, EventSink } from "./events.ts";
import { copyFileVerified } from "./file-copy.ts";
import { compressStream, decompressStream, verifyStream } from "./streams.ts";

export interface BlobPlan {
  src: Descriptor;
  /** Media type to record in the output. */
  mediaType: string;
  /** Present when the bytes change form: from → to, and the uncompressed digest to check (diff_id). */
  recompress?: { from: Compression; to: Compression; diffId?: Digest };
}

export interface MovedBlob {
  desc: Descriptor;
  state: BlobState;
}

/**
 * Moves one blob, retrying from scratch when its bytes fail verification (once) or the connection
 * breaks mid-body (up to `retries` times). The sink has discarded the failed attempt's temp data.
 */
export async function moveBlob(source: ImageSource, sink: ImageSink, plan: BlobPlan, emit: EventSink, mountFrom?: { registry: string; repository: string }, retries = 3, cache?: BlobInfoCache): Promise<MovedBlob> {
  let integrityRetries = 1;
  // one budget for every send of this blob's GET: the registry client's retries draw on it too
  const attempts = new Attempts(retries);
  for (;;) {
    try {
      const moved = await moveOnce(source, sink, plan, emit, mountFrom, cache, attempts);
      const rc = plan.recompress;
      if (cache && rc?.diffId && rc.to !== "none" && moved.state === "copied") cache.set(rc.diffId, rc.to, { digest: moved.desc.digest, size: moved.desc.size });
      return moved;
    } catch (e) {
      const integrity = isIntegrityError(e);
      const network = isImgxError(e, "NETWORK") || (!isImgxError(e) && isConnectionError(e));
      if (integrity && integrityRetries-- > 0) continue;
      if (network && attempts.retry()) {
        await Bun.sleep(200 * attempts.retried);
        continue;
      }
      if (network && !isImgxError(e))
        throw new ImgxError("NETWORK", `Cannot copy blob ${q(plan.src.digest)} from ${source.label}: connection failed mid-transfer (${(e as Error).message})`, { cause: e });
      throw e;
    }
  }
}

function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; name?: string; message?: string };
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ConnectionClosed|ConnectionRefused|socket|aborted|terminated/i.test(`${err?.code ?? ""} ${err?.name ?? ""} ${err?.message ?? ""}`);
}

/**
 * Moves one blob from source to sink in a single pass: read → verify (hash) → optional
 * decompress/verify diff_id/compress/hash → sink. Skips blobs the sink has, mounts when it can.
 */
async function moveOnce(source: ImageSource, sink: ImageSink, plan: BlobPlan, emit: EventSink, mountFrom: { registry: string; repository: string } | undefined, cache: BlobInfoCache | undefined, attempts: Attempts): Promise<MovedBlob> {
  const started = performance.now();
  const { src } = plan;
  const knownOut: Descriptor | undefined = !plan.recompress
    ? { ...src, mediaType: plan.mediaType }
    : plan.recompress.to === "none" && plan.recompress.diffId
      ? { mediaType: plan.mediaType, digest: plan.recompress.diffId, size: -1 }
      : undefined;
  const done = (desc: Descriptor, state: BlobState): MovedBlob => {
    emit({ type: "blob-done", digest: src.digest, size: desc.size, mediaType: desc.mediaType, state, outDigest: desc.digest, seconds: (performance.now() - started) / 1000 });
    return { desc, state };
  };
  if (knownOut && knownOut.size >= 0 && (await sink.hasBlob(knownOut))) return done(knownOut, "exists");
  const rc = plan.recompress;
  const remembered = rc && rc.to !== "none" && rc.diffId ? cache?.get(rc.diffId, rc.to) : undefined;
  if (remembered && (await sink.hasBlob({ mediaType: plan.mediaType, ...remembered }))) return done({ mediaType: plan.mediaType, ...remembered }, "exists");
  if (knownOut && knownOut.size >= 0 && mountFrom && sink.mountBlob && (await sink.mountBlob(knownOut, mountFrom))) return done(knownOut, "mounted");

  emit({ type: "blob-start", digest: src.digest, size: src.size, mediaType: plan.mediaType });
  let moved = 0;
  let lastEmit = 0;
  const onBytes = (n: number) => {
    moved += n;
    const now = performance.now();
    if (now - lastEmit > 100 || moved === src.size) {
      lastEmit = now;
      emit({ type: "blob-progress", digest: src.digest, bytes: moved, size: src.size });
    }
  };
  const what = `blob ${src.digest} from ${source.label}`;
  if (!plan.recompress) {
    const file = source.blobFile?.(src);
    const target = file && (await sink.fileTarget?.(src));
    if (file && target) {
      try {
        await copyFileVerified(file, target, src, what, onBytes);
        await target.keep(src.digest);
      } catch (e) {
        await target.discard();
        throw e;
      }
      return done({ ...src, mediaType: plan.mediaType }, "copied");
    }
  }
  const resumed = plan.recompress ? undefined : await resumeFrom(source, sink, src, attempts);
  if (resumed) onBytes(resumed.offset);
  const v = verifyStream(src, what, onBytes, resumed?.hashed);
  let stream = (resumed?.stream ?? (await source.blob(src, 0, { attempts }))).pipeThrough(v.stream);
  let result = v.result;
  if (plan.recompress) {
    const { from, to, diffId } = plan.recompress;
    const d = decompressStream(from);
    if (d) {
      stream = stream.pipeThrough(d);
      const u = verifyStream({ digest: diffId }, `uncompressed ${what} (diff_id)`);
      stream = stream.pipeThrough(u.stream);
      result = u.result;
    } else if (diffId && diffId !== src.digest) {
      // an uncompressed layer's digest is its diff_id; the first verify already hashes these very bytes
      throw new ImgxError("BAD_MANIFEST", `Cannot compress layer ${q(src.digest)}: it is uncompressed, so its diff_id should be the same digest, not ${q(diffId)}`);
    }
    const c = compressStream(to);
    if (c) {
      const out = verifyStream({}, `compressed ${what}`);
      stream = stream.pipeThrough(c).pipeThrough(out.stream);
      result = out.result;
    }
  }
  const input: BlobInput = {
    mediaType: plan.mediaType,
    digest: plan.recompress ? (plan.recompress.to === "none" ? plan.recompress.diffId : undefined) : src.digest,
    size: plan.recompress ? undefined : src.size,
    stream,
    offset: resumed?.offset,
    result,
  };
  if (input.size === undefined && sink.caps.needsKnownSize) {
    const spooled = await spool(input);
    try {
      await sink.putBlob(spooled.input);
    } finally {
      await spooled.cleanup();
    }
    const r = spooled.input.result();
    return done({ mediaType: plan.mediaType, digest: r.digest, size: r.size }, "copied");
  }
  await sink.putBlob(input);
  const r = input.result();
  return done({ mediaType: plan.mediaType, digest: r.digest, size: r.size }, "copied");
}

/**
 * Continues an interrupted download: the sink's partial bytes (re-hashed by the sink) plus a ranged
 * read of the rest. A source that can't serve ranges makes it start over.
 */
async function resumeFrom(source: ImageSource, sink: ImageSink, src: Descriptor, attempts: Attempts) {
  const partial = await sink.partialBlob?.(src);
  if (!partial || partial.offset <= 0 || partial.offset >= src.size) return undefined;
  try {
    return { ...partial, stream: await source.blob(src, partial.offset, { attempts }) };
  } catch (e) {
    if (isImgxError(e, "UNSUPPORTED")) return undefined;
    throw e;
  }
}

/** Writes a stream of unknown size to a temp file (hashing on the way) so a tar sink can get its size first. */
async function spool(input: BlobInput): Promise<{ input: BlobInput; cleanup: () => Promise<void> }> {
  const path = join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-${crypto.randomUUID()}`);
  const cleanup = () => rm(path, { force: true });
  try {
    const w = Bun.file(path).writer();
    // FileSink.write returns a promise when it flushes: awaiting it surfaces ENOSPC once, as one error
    for await (const chunk of input.stream) {
      const r = w.write(chunk);
      if (r instanceof Promise) await r;
    }
    await w.end();
  } catch (e) {
    await cleanup();
    throw e;
  }
  // Hashed on the way in; the spool file is ours and short-lived, so it is not hashed again.
  const r = input.result();
  return { input: { mediaType: input.mediaType, digest: r.digest, size: r.size, stream: Bun.file(path).stream(), result: () => r }, cleanup };
}

export function missingBlobError(desc: Descriptor, where: string): ImgxError {
  return new ImgxError("BLOB_UNKNOWN", `Cannot copy blob ${q(desc.digest)}: not found in ${where}`);
}
