import type { Attempts } from "../core/attempts.ts";
import type { Descriptor } from "../core/manifest.ts";
import type { BlobPlan, MoveContext, MovedBlob } from "./blob-mover.ts";
import { copyFileVerified } from "./file-copy.ts";

/** One blob on its way: the plan, its send budget, and the output descriptor when known up front. */
export interface BlobJob extends MoveContext {
  plan: BlobPlan;
  attempts: Attempts;
  started: number;
  /** The blob as it will be stored, when its bytes keep their form. */
  out?: Descriptor;
}

/** A way to get a blob into the sink: the result, or undefined when this way does not apply. */
export type BlobStep = (job: BlobJob) => Promise<MovedBlob | undefined>;

/** The sink already has the blob (HEAD on a registry, a file of that size in a layout). */
export const skipExisting: BlobStep = async ({ sink, out }) => (out && (await sink.hasBlob(out)) ? { desc: out, state: "exists" } : undefined);

/** A recompressed layer whose compressed form an earlier run remembered, and the sink has. */
export const skipRemembered: BlobStep = async ({ sink, plan, cache }) => {
  const rc = plan.recompress;
  const hit = rc && rc.to !== "none" && rc.diffId ? cache?.get(rc.diffId, rc.to) : undefined;
  if (!hit) return undefined;
  const desc = { mediaType: plan.mediaType, ...hit };
  return (await sink.hasBlob(desc)) ? { desc, state: "exists" } : undefined;
};

/** Cross-repository mount within one registry (the registry sink's capability). */
export const mount: BlobStep = async ({ sink, out, mountFrom }) =>
  out && mountFrom && sink.mountBlob && (await sink.mountBlob(out, mountFrom)) ? { desc: out, state: "mounted" } : undefined;

/**
 * A blob lying as plain bytes in a local file, into a directory sink's temp file: read, hashed and
 * written on a worker thread (both capabilities needed, and the bytes keep their form).
 */
export const copyLocalFile: BlobStep = async (job) => {
  const { source, sink, plan, out } = job;
  const file = out && source.blobFile?.(plan.src);
  const target = file && (await sink.fileTarget?.(plan.src));
  if (!file || !target || !out) return undefined;
  const onBytes = startProgress(job);
  try {
    await copyFileVerified(file, target, plan.src, `blob ${plan.src.digest} from ${source.label}`, onBytes, job.workers);
    await target.keep(plan.src.digest);
  } catch (e) {
    await target.discard();
    throw e;
  }
  return { desc: out, state: "copied" };
};

/** Emits blob-start and returns the byte counter that emits blob-progress (at most every 100 ms). */
export function startProgress({ emit, plan }: BlobJob): (n: number) => void {
  const { src } = plan;
  emit({ type: "blob-start", digest: src.digest, size: src.size, mediaType: plan.mediaType });
  let moved = 0;
  let lastEmit = 0;
  return (n: number) => {
    moved += n;
    const now = performance.now();
    if (now - lastEmit > 100 || moved === src.size) {
      lastEmit = now;
      emit({ type: "blob-progress", digest: src.digest, bytes: moved, size: src.size });
    }
  };
}
