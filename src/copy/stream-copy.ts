import type { Digest } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import { spoolToTemp } from "../storage/spool.ts";
import type { BlobInput, RangeRead } from "../transports/types.ts";
import type { MovedBlob } from "./blob-mover.ts";
import { startProgress, type BlobJob, type BlobStep } from "./blob-steps.ts";
import { blockCodec } from "./block-compress.ts";
import { compressFile } from "./gzip-blocks.ts";
import { compressStream, decompress, verifyStream } from "./streams.ts";
import { WorkerPools } from "./worker-pool.ts";

/**
 * The general way, which always applies: one pass source → verify (hash) → optional decompress →
 * verify diff_id → compress → hash → sink, continuing a partial download where the sink kept one.
 */
export const copyStream: BlobStep = async (job): Promise<MovedBlob> => {
  const { source, sink, plan, attempts } = job;
  const { src } = plan;
  const onBytes = startProgress(job);
  const what = `blob ${src.digest} from ${source.label}`;
  const resumed = plan.recompress ? undefined : await resume(job);
  if (resumed) onBytes(resumed.offset);
  const v = verifyStream(src, what, onBytes, resumed?.hashed);
  let stream = (resumed?.stream ?? (await source.blob(src, { attempts }))).pipeThrough(v.stream);
  let result = v.result;
  if (plan.recompress) {
    const { from, to, diffId, level } = plan.recompress;
    if (from !== "none") {
      // a decompressor failure is bad data naming this blob, not a broken connection (streams.ts)
      stream = decompress(stream, from, what);
      const u = verifyStream({ digest: diffId }, `uncompressed ${what} (diff_id)`);
      stream = stream.pipeThrough(u.stream);
      result = u.result;
    } else if (diffId && diffId !== src.digest) {
      // an uncompressed layer's digest is its diff_id; the first verify already hashes these very bytes
      throw new ImgxError("BAD_MANIFEST", `Cannot compress layer ${q(src.digest)}: it is uncompressed, so its diff_id should be the same digest, not ${q(diffId)}`);
    }
    const c = compressStream(to, level, job.workers);
    if (c) {
      const out = verifyStream({}, `compressed ${what}`);
      stream = stream.pipeThrough(c).pipeThrough(out.stream);
      result = out.result;
    }
  }
  const rc = plan.recompress;
  return deliver(job, {
    mediaType: plan.mediaType,
    digest: rc ? (rc.to === "none" ? rc.diffId : undefined) : src.digest,
    size: rc ? undefined : src.size,
    stream,
    offset: resumed?.offset,
    result,
  });
};

/**
 * An uncompressed layer lying in a local file (docker-save, OCI layout) that is to be compressed:
 * the worker threads read and compress its blocks (gzip-blocks.ts compressFile), this thread only
 * hashes input and output. Same checks as the general way: the input must be the layer's digest
 * (its diff_id), and the sink sees a clean end only then.
 */
export const compressLocalFile: BlobStep = async (job) => {
  const { source, plan } = job;
  const rc = plan.recompress;
  if (!rc || rc.from !== "none" || rc.to === "none") return undefined;
  const file = source.blobFile?.(plan.src);
  if (!file) return undefined;
  const what = `blob ${plan.src.digest} from ${source.label}`;
  if (rc.diffId && rc.diffId !== plan.src.digest)
    throw new ImgxError("BAD_MANIFEST", `Cannot compress layer ${q(plan.src.digest)}: it is uncompressed, so its diff_id should be the same digest, not ${q(rc.diffId)}`);
  const own = job.workers ? undefined : new WorkerPools();
  try {
    const out = verifyStream({}, `compressed ${what}`);
    const stream = compressFile(file, blockCodec(rc.to, rc.level), plan.src, what, job.workers ?? own!, startProgress(job)).pipeThrough(out.stream);
    return await deliver(job, { mediaType: plan.mediaType, stream, result: out.result });
  } finally {
    own?.close();
  }
};

/** Hands the blob to the sink (through a spool when the sink needs the size first) and describes what was stored. */
async function deliver({ sink, plan, source }: BlobJob, input: BlobInput): Promise<MovedBlob> {
  const what = `blob ${plan.src.digest} from ${source.label}`;
  if (input.size === undefined && sink.caps.needsKnownSize) {
    // a tar entry header needs the size before the body: hashed on the way into the spool, not again
    const spool = await spoolToTemp(input.stream, what);
    try {
      const r = input.result();
      await sink.putBlob({ mediaType: input.mediaType, digest: r.digest, size: r.size, stream: Bun.file(spool.path).stream(), result: () => r });
    } finally {
      await spool.dispose();
    }
  } else await sink.putBlob(input);
  const r = input.result();
  return { desc: { mediaType: plan.mediaType, digest: r.digest as Digest, size: r.size }, state: "copied" };
}

/**
 * Continues an interrupted download: the sink's partial bytes (re-hashed by the sink) plus a ranged
 * read of the rest. A source that ignores the range makes it start over.
 */
async function resume({ source, sink, plan, attempts }: BlobJob) {
  const { src } = plan;
  const partial = await sink.partialBlob?.(src);
  if (!partial || partial.offset <= 0 || partial.offset >= src.size) return undefined;
  const rest: RangeRead = await source.blobFrom(src, partial.offset, { attempts });
  return rest.rangeIgnored ? undefined : { ...partial, stream: rest.stream };
}
