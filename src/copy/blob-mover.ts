import { Attempts } from "../core/attempts.ts";
import type { Digest } from "../core/digest.ts";
import { ImgxError, isImgxError, isIntegrityError, q } from "../core/errors.ts";
import type { Descriptor } from "../core/manifest.ts";
import type { Compression } from "../core/media-types.ts";
import type { ImageSink, ImageSource } from "../transports/types.ts";
import type { BlobInfoCache } from "./blob-info-cache.ts";
import { copyLocalFile, mount, skipExisting, skipRemembered, type BlobJob, type BlobStep } from "./blob-steps.ts";
import type { BlobState, EventSink } from "./events.ts";
import { compressLocalFile, copyStream } from "./stream-copy.ts";
import type { WorkerPools } from "./worker-pool.ts";

export interface BlobPlan {
  src: Descriptor;
  /** Media type to record in the output. */
  mediaType: string;
  /** Present when the bytes change form: from → to, and the uncompressed digest to check (diff_id). */
  recompress?: { from: Compression; to: Compression; diffId?: Digest; level?: number };
}

export interface MovedBlob {
  desc: Descriptor;
  state: BlobState;
}

export interface MoveContext {
  source: ImageSource;
  sink: ImageSink;
  emit: EventSink;
  mountFrom?: { registry: string; repository: string };
  /** Sends of one blob's GET after the first, shared with the registry client's own retries. */
  retries?: number;
  cache?: BlobInfoCache;
  /** Threads for local file copies and block compression. */
  workers?: WorkerPools;
}

/**
 * The ways a blob can reach the sink, cheapest first; each step says "done" or "not mine". The
 * last one (stream copy) always applies.
 */
const STEPS: BlobStep[] = [skipExisting, skipRemembered, mount, copyLocalFile, compressLocalFile, copyStream];

/**
 * Moves one blob, retrying from scratch when its bytes fail verification (once) or the connection
 * breaks mid-body (within the blob's send budget). The sink has discarded the failed attempt's data.
 */
export async function moveBlob(ctx: MoveContext, plan: BlobPlan): Promise<MovedBlob> {
  let integrityRetries = 1;
  // one budget for every send of this blob's GET: the registry client's retries draw on it too
  const attempts = new Attempts(ctx.retries ?? 3);
  const job: BlobJob = { ...ctx, plan, attempts, started: performance.now(), out: unchangedOutput(plan) };
  for (;;) {
    try {
      const moved = await runSteps(job);
      const rc = plan.recompress;
      if (ctx.cache && rc?.diffId && rc.to !== "none" && moved.state === "copied") ctx.cache.set(rc.diffId, rc.to, { digest: moved.desc.digest, size: moved.desc.size });
      return moved;
    } catch (e) {
      // fetching again helps only when the bytes differ from what the digest names; bad data the digest
      // vouches for (a layer that is not valid gzip, BAD_ARCHIVE) would come back the same
      const integrity = isIntegrityError(e) && !isImgxError(e, "BAD_ARCHIVE");
      const network = isImgxError(e, "NETWORK") || (!isImgxError(e) && isConnectionError(e));
      if (integrity && integrityRetries-- > 0) continue;
      if (network && attempts.retry()) {
        await Bun.sleep(200 * attempts.retried);
        continue;
      }
      if (network && !isImgxError(e))
        throw new ImgxError("NETWORK", `Cannot copy blob ${q(plan.src.digest)} from ${ctx.source.label}: connection failed mid-transfer (${(e as Error).message})`, { cause: e });
      throw e;
    }
  }
}

async function runSteps(job: BlobJob): Promise<MovedBlob> {
  for (const step of STEPS) {
    const moved = await step(job);
    if (moved) {
      const { desc, state } = moved;
      job.emit({ type: "blob-done", digest: job.plan.src.digest, size: desc.size, mediaType: desc.mediaType, state, outDigest: desc.digest, seconds: (performance.now() - job.started) / 1000 });
      return moved;
    }
  }
  throw new Error("unreachable: the stream copy always applies");
}

/** The output descriptor when the bytes keep their form (known before copying); undefined when they change. */
function unchangedOutput(plan: BlobPlan): Descriptor | undefined {
  return plan.recompress ? undefined : { ...plan.src, mediaType: plan.mediaType };
}

function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; name?: string; message?: string };
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|ConnectionClosed|ConnectionRefused|socket|aborted|terminated/i.test(`${err?.code ?? ""} ${err?.name ?? ""} ${err?.message ?? ""}`);
}
