import type { Digest } from "../core/digest.ts";
import { ImgxError, isImgxError, q } from "../core/errors.ts";
import { isIndexType } from "../core/media-types.ts";
import type { TagFilter } from "../core/tag-filter.ts";
import type { MovedBlob } from "../copy/blob-mover.ts";
import { Limiter, SingleFlight } from "../core/limit.ts";
import { carryReferrers, copyImages } from "../copy/pipeline.ts";
import { WorkerPools } from "../copy/worker-pool.ts";
import { selectChildren, type PlatformChoice } from "../copy/select.ts";
import { listCatalog } from "../transports/registry/catalog.ts";
import { headManifest } from "../transports/registry/head.ts";
import { listTags, openRegistrySink, openRegistrySource } from "../transports/registry/index.ts";
import { fetchManifest } from "../transports/registry/source.ts";
import type { ImageSink, RegistryOptions } from "../transports/types.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import { BundleWriter, openBundleSource } from "./sync-ends.ts";
import { parseSyncEndpoint, planSync, type SyncEndpoint, type SyncTask } from "./sync-plan.ts";

/** One SRC → DST mapping: the command line's, or one entry of a sync.yaml. */
export interface SyncEntry {
  src: string;
  dst: string;
  /** Whole registry or bundle sources: repositories to take (anchored regexes, or plain names). */
  repos?: string[];
  tags?: TagFilter;
  /** Default: every platform (a mirror keeps the image as it is, so digests match). */
  platforms?: PlatformChoice;
  referrers?: boolean;
}

export interface SyncOptions {
  entries: SyncEntry[];
  srcRegistry?: RegistryOptions;
  dstRegistry?: RegistryOptions;
  /** Images copied at once (default 4). */
  images?: number;
  /** Blobs moved at once per image (default 4). */
  concurrency?: number;
  /** Check what would be copied; copy nothing. */
  dryRun?: boolean;
}

export type ImageState = "copied" | "current" | "failed" | "would-copy";

export type SyncEvent =
  | { type: "sync-plan"; images: number; entries: number }
  | { type: "sync-image"; state: ImageState; source: string; target: string; digest?: Digest; bytes: number; blobs?: number; referrers?: number; seconds: number; error?: string }
  | { type: "sync-summary"; images: number; copied: number; current: number; failed: number; wouldCopy: number; bytes: number; seconds: number };

/** As AppContext, with sync's own events. */
export interface SyncContext {
  signal?: AbortSignal;
  onEvent?: (e: SyncEvent) => void;
  /** One client per registry for the whole sync (one ping, one token cache, one connection budget). */
  clients?: RegistryClients;
}

export interface SyncResult {
  copied: number;
  current: number;
  failed: number;
  wouldCopy: number;
  bytes: number;
  seconds: number;
  failures: { source: string; error: ImgxError | Error }[];
}

interface Prepared {
  entry: SyncEntry;
  src: SyncEndpoint;
  dst: SyncEndpoint;
  tasks: SyncTask[];
  bundleIn?: Awaited<ReturnType<typeof openBundleSource>>;
  bundleOut?: Awaited<ReturnType<typeof BundleWriter.open>>;
  /** One per destination repository (or bundle): a blob two images share is written once. */
  flights: Map<string, SingleFlight<MovedBlob>>;
}

/**
 * Mirrors many images: plans every entry (catalog, tags, filters), then copies images in
 * parallel. An image whose digest already matches at the destination costs one HEAD per side and
 * moves nothing; a failed image is reported and the others go on; an interrupted run rerun skips
 * what finished and reuses every blob already there.
 */
export async function sync(opts: SyncOptions, ctx: SyncContext = {}): Promise<SyncResult> {
  const started = performance.now();
  const srcOpts = opts.srcRegistry ?? {};
  const dstOpts = opts.dstRegistry ?? {};
  const clients = ctx.clients ?? new RegistryClients();
  // one set of worker threads for every image (local blob copies into or out of a bundle)
  const workers = new WorkerPools();
  const emit = (e: SyncEvent) => ctx.onEvent?.(e);
  const result: SyncResult = { copied: 0, current: 0, failed: 0, wouldCopy: 0, bytes: 0, seconds: 0, failures: [] };
  const prepared: Prepared[] = [];
  try {
    for (const entry of opts.entries) {
      const src = parseSyncEndpoint(entry.src, "source");
      const dst = parseSyncEndpoint(entry.dst, "destination");
      const p: Prepared = { entry, src, dst, tasks: [], flights: new Map() };
      prepared.push(p);
      if (src.kind === "bundle") p.bundleIn = await openBundleSource(src.path);
      p.tasks = await planSync(
        { src, dst, repos: entry.repos, tags: entry.tags },
        {
          catalog: (r) => listCatalog(clients.get(r, srcOpts), { pageSize: 1000, signal: ctx.signal }),
          tags: (r, repo) => listTags({ registry: r, repository: repo }, srcOpts, clients.get(r, srcOpts)),
          bundle: async () => p.bundleIn!.all,
        },
      );
      if (dst.kind === "bundle") p.bundleOut = await BundleWriter.open(dst.path, !!opts.dryRun);
    }
    emit({ type: "sync-plan", images: prepared.reduce((n, p) => n + p.tasks.length, 0), entries: prepared.length });
    // the cheap checks (a HEAD per side) run several times wider than the copies
    const images = Math.max(1, opts.images ?? 4);
    const copyGate = new Limiter(images);
    const limiter = new Limiter(Math.max(16, images));
    await Promise.all(
      prepared.flatMap((p) =>
        p.tasks.map((t) =>
          limiter.run(async () => {
            if (ctx.signal?.aborted) return;
            const out = await syncImage(p, t, { ...opts, srcOpts, dstOpts, clients, workers, copyGate, signal: ctx.signal, onEvent: emit }).catch((e: Error) => ({ state: "failed" as const, error: e, bytes: 0 }));
            if (out.state === "failed") {
              result.failed++;
              result.failures.push({ source: sourceName(p, t), error: out.error! });
            } else result[out.state === "would-copy" ? "wouldCopy" : out.state]++;
            result.bytes += out.bytes;
          }),
        ),
      ),
    );
  } finally {
    for (const p of prepared) {
      await p.bundleIn?.all.close();
      if (p.bundleOut instanceof BundleWriter) await (ctx.signal?.aborted ? p.bundleOut.abort() : p.bundleOut.close());
    }
    if (!ctx.clients) clients.close();
    workers.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  const images = result.copied + result.current + result.failed + result.wouldCopy;
  emit({ type: "sync-summary", images, copied: result.copied, current: result.current, failed: result.failed, wouldCopy: result.wouldCopy, bytes: result.bytes, seconds: result.seconds });
  return result;
}

function sourceName(p: Prepared, t: SyncTask): string {
  return p.src.kind === "bundle" ? `oci:${p.src.path}:${t.srcRepo}:${t.tag}` : `${p.src.registry}/${t.srcRepo}:${t.tag}`;
}

function targetName(p: Prepared, t: SyncTask): string {
  return p.dst.kind === "bundle" ? `oci:${p.dst.path}:${t.dstRepo}:${t.tag}` : `${p.dst.registry}/${t.dstRepo}:${t.tag}`;
}

type Run = SyncOptions & { srcOpts: RegistryOptions; dstOpts: RegistryOptions; clients: RegistryClients; workers: WorkerPools; copyGate: Limiter; signal?: AbortSignal; onEvent: (e: SyncEvent) => void };

async function syncImage(p: Prepared, t: SyncTask, run: Run): Promise<{ state: ImageState; bytes: number; error?: Error }> {
  const started = performance.now();
  const source = sourceName(p, t);
  const target = targetName(p, t);
  const platforms = p.entry.platforms ?? { all: true };
  const report = (state: ImageState, extra: Partial<Extract<SyncEvent, { type: "sync-image" }>> = {}) =>
    run.onEvent({ type: "sync-image", state, source, target, bytes: 0, seconds: (performance.now() - started) / 1000, ...extra });
  try {
    // 1. what the source holds (index.json of a bundle, or one HEAD) and what the destination holds
    // under that name (index.json or one HEAD), both asked at once
    const srcClient = p.src.kind === "registry" ? run.clients.get(p.src.registry, run.srcOpts) : undefined;
    const dstClient = p.dst.kind === "registry" ? run.clients.get(p.dst.registry, run.dstOpts) : undefined;
    const [h, have] = await Promise.all([
      t.image ? t.image.descriptor : headManifest(srcClient!, t.srcRepo, t.tag, run.signal),
      p.bundleOut ? p.bundleOut.names.get(`${t.dstRepo}:${t.tag}`) : headManifest(dstClient!, t.dstRepo, t.tag, run.signal).then((d) => d?.digest),
    ]);
    if (!h) throw new ImgxError("MANIFEST_UNKNOWN", `Cannot sync ${q(source)}: the tag is gone from the source`);
    const srcDigest: Digest = h.digest;
    const srcType: string | undefined = h.mediaType;
    // 3. a platform subset of an index is written as the chosen manifest: compare with that
    let want: Digest | undefined = srcDigest;
    if (!platforms.all && srcType && isIndexType(srcType) && srcClient && have) {
      const idx = await fetchManifest(srcClient, { registry: srcClient.registry, repository: t.srcRepo }, srcDigest);
      const kids = idx.parsed.kind === "index" ? selectChildren(idx.parsed.index, platforms, source) : [];
      want = kids.length === 1 ? kids[0]!.digest : undefined;
    }
    const current = have !== undefined && have === want;
    if (run.dryRun) {
      report(current ? "current" : "would-copy", { digest: srcDigest });
      return { state: current ? "current" : "would-copy", bytes: 0 };
    }
    const src = t.image ? p.bundleIn!.one(t.image) : await openRegistrySource({ registry: p.src.kind === "registry" ? p.src.registry : "", repository: t.srcRepo, digest: srcDigest }, run.srcOpts, srcClient);
    const sink: ImageSink = p.bundleOut instanceof BundleWriter ? p.bundleOut.view() : await openRegistrySink({ registry: (p.dst as { registry: string }).registry, repository: t.dstRepo, tag: t.tag }, run.dstOpts, dstClient);
    const names = p.bundleOut ? [`${t.dstRepo}:${t.tag}`] : [t.tag];
    const flightKey = p.bundleOut ? "" : t.dstRepo;
    let flights = p.flights.get(flightKey);
    if (!flights) p.flights.set(flightKey, (flights = new SingleFlight<MovedBlob>()));
    const copyOpts = { platforms, names, concurrency: run.concurrency ?? 4, referrers: p.entry.referrers, blobFlights: flights, workers: run.workers, signal: run.signal };
    if (current) {
      const referrers = p.entry.referrers ? await run.copyGate.run(() => carryReferrers(src, sink, { mediaType: srcType ?? "", digest: srcDigest, size: 0 }, copyOpts)) : 0;
      report("current", { digest: srcDigest, ...(p.entry.referrers ? { referrers } : {}) });
      return { state: "current", bytes: 0 };
    }
    // checks run wide; copies take a place among the --images copying at once
    const r = await run.copyGate.run(() => copyImages(src, sink, copyOpts));
    report("copied", { digest: r.images[0]?.digest, bytes: r.bytes, blobs: r.blobs.copied, ...(p.entry.referrers ? { referrers: r.referrers } : {}) });
    return { state: "copied", bytes: r.bytes };
  } catch (e) {
    const err = e as Error;
    report("failed", { error: isImgxError(err) ? err.message : `unexpected error: ${err.message}` });
    return { state: "failed", bytes: 0, error: err };
  }
}
