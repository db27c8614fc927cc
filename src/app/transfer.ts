import { ImgxError, q } from "../core/errors.ts";
import type { Compression, Family } from "../core/media-types.ts";
import { hostPlatform } from "../core/platform.ts";
import { formatReference, isTag } from "../core/reference.ts";
import { BlobInfoCache } from "../copy/blob-info-cache.ts";
import type { CopyEvent } from "../copy/events.ts";
import { copyImages, type CopyResult } from "../copy/pipeline.ts";
import type { PlatformChoice } from "../copy/select.ts";
import { writeFileAtomic } from "../storage/atomic.ts";
import { openSink, openSource } from "../transports/open.ts";
import { parseTransportRef, type TransportRef } from "../transports/parse.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import type { RegistryOptions } from "../transports/types.ts";

/** What every application function takes besides its options: cancellation, events, shared clients. */
export interface AppContext {
  signal?: AbortSignal;
  onEvent?: (e: CopyEvent) => void;
  /** Registry clients to share with other work of this process; a private set is made when absent. */
  clients?: RegistryClients;
}

export interface TransferOptions {
  /** Where the image is: a TransportRef or a string in imgx's reference syntax (`oci:dir`, `host/repo:tag`, a path…). */
  src: string | TransportRef;
  dst: string | TransportRef;
  /** What to do with an existing local destination: refuse (convert's default) or add to it. */
  existing?: "error" | "update";
  platforms?: PlatformChoice;
  compress?: Compression | "keep";
  /** Compression for uncompressed layers when `compress` is unset (push: gzip, like docker push). */
  compressUncompressed?: Compression;
  /** Level for the layers compressed: gzip 1–12, zstd 1–22 (default: copy/block-compress.ts). */
  compressLevel?: number;
  format?: Family;
  /** Extra names (tags) for the result, beside the one the destination reference carries. */
  tags?: string[];
  /** Blobs moved at once, and the registry sink's uploads at once. */
  concurrency?: number;
  /** `repo` of the destination registry to cross-mount blobs from. */
  mountFrom?: string;
  srcRegistry?: RegistryOptions;
  dstRegistry?: RegistryOptions;
  /** Remember compressed forms of layers in ~/.cache/imgx (default true). */
  blobInfoCache?: boolean;
  /** Write the resulting manifest digest here (atomically). */
  digestFile?: string;
  /** Also carry the artifacts referring to the image (signatures, SBOMs): see copy/referrers.ts. */
  referrers?: boolean;
}

/**
 * Copies images from any source to any destination: the operation behind convert, pull, push and
 * copy, callable without a command line. Abort `ctx.signal` to stop: the destination is left as it
 * was (resumable partial downloads stay) and the promise rejects with the signal's reason.
 */
export async function transfer(opts: TransferOptions, ctx: AppContext = {}): Promise<CopyResult> {
  const src = typeof opts.src === "string" ? parseTransportRef(opts.src) : opts.src;
  const dst = typeof opts.dst === "string" ? parseTransportRef(opts.dst, { forWrite: true }) : opts.dst;
  const clients = ctx.clients ?? new RegistryClients();
  const dstRegistry = { ...opts.dstRegistry, concurrency: opts.concurrency ?? opts.dstRegistry?.concurrency };
  const names = destinationNames(dst, opts.tags ?? []);
  const mountFrom = mountFromOption(opts.mountFrom, dst);
  const source = await openSource(src, { registry: opts.srcRegistry, clients });
  try {
    const sink = await openSink(dst, { registry: dstRegistry, existing: opts.existing, clients });
    const result = await copyImages(source, sink, {
      platforms: opts.platforms ?? { all: false, platforms: [hostPlatform()] },
      compress: opts.compress,
      compressUncompressed: opts.compressUncompressed,
      compressLevel: opts.compressLevel,
      format: opts.format,
      names,
      concurrency: opts.concurrency,
      mountFrom,
      onEvent: ctx.onEvent,
      blobInfoCache: opts.blobInfoCache === false ? undefined : new BlobInfoCache(),
      retries: dstRegistry.retries,
      signal: ctx.signal,
      referrers: opts.referrers,
    });
    if (opts.digestFile && result.images[0]) {
      await writeFileAtomic(opts.digestFile, result.images[0].digest);
    }
    return result;
  } finally {
    await source.close();
    if (!ctx.clients) clients.close();
  }
}

/** Names the destination reference carries plus `tags`; empty means "keep the source's names". */
function destinationNames(dst: TransportRef, tags: string[]): string[] {
  const names: string[] = [];
  if (dst.kind === "docker") {
    if (dst.ref.tag) names.push(dst.ref.tag);
    for (const t of tags) {
      if (!isTag(t)) throw new ImgxError("USAGE", `Cannot use --tag ${q(t)} with a registry destination: expected a tag like 1.2 (the repository comes from the destination)`);
      names.push(t);
    }
    if (!dst.ref.tag && !dst.ref.digest && names.length === 0) names.push("latest");
    return names;
  }
  if (dst.name) names.push(dst.name);
  names.push(...tags);
  return names;
}

function mountFromOption(v: string | undefined, dst: TransportRef): { registry: string; repository: string } | undefined {
  if (!v) return undefined;
  if (dst.kind !== "docker") throw new ImgxError("USAGE", "Cannot use --mount-from: the destination is not a registry");
  const prefix = `${dst.ref.registry}/`;
  return { registry: dst.ref.registry, repository: v.startsWith(prefix) ? v.slice(prefix.length) : v };
}

/** `repo@digest` for a registry destination, `kind:path@digest` otherwise: the line commands print. */
export function resultReference(dst: TransportRef, digest: string): string {
  if (dst.kind === "docker") return `${formatReference({ registry: dst.ref.registry, repository: dst.ref.repository })}@${digest}`;
  return `${dst.kind}:${dst.path}@${digest}`;
}
