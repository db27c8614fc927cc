import { rename, writeFile } from "node:fs/promises";
import { ImgxError, q } from "../../core/errors.ts";
import { formatReference, isTag } from "../../core/reference.ts";
import type { Compression } from "../../core/media-types.ts";
import { BlobInfoCache } from "../../copy/blob-info-cache.ts";
import { copyImages, type CopyResult } from "../../copy/pipeline.ts";
import { openSink, openSource } from "../../transports/open.ts";
import type { TransportRef } from "../../transports/parse.ts";
import type { TransportOptions } from "../../transports/types.ts";
import { compressionFlag, formatFlag, intFlag, oneString, platformChoice, registryOptions, sizeFlag, strings, type Flags } from "../options.ts";
import { outputMode, progressRenderer } from "../progress.ts";

export interface TransferSpec {
  src: TransportRef;
  dst: TransportRef;
  /** What to do with an existing destination. */
  existing: "error" | "update";
  /** Compression for uncompressed layers when --compress is not given (push: gzip, like docker push). */
  compressUncompressed?: Compression;
}

/** Runs the copy pipeline for convert, pull, push and copy; prints the result digest(s) on stdout. */
export async function runTransfer(spec: TransferSpec, argv: string[], flags: Flags, debug?: (l: string) => void): Promise<CopyResult> {
  const mode = outputMode(flags);
  const srcOpts: TransportOptions = { registry: await registryOptions(argv, flags, debug, "src-") };
  const dstReg = await registryOptions(argv, flags, debug, "dest-");
  dstReg.chunkSize = sizeFlag(argv, "chunk-size");
  const um = oneString(argv, "upload-mode");
  if (um !== undefined && !["auto", "monolithic", "stream", "chunked"].includes(um))
    throw new ImgxError("USAGE", `Cannot use --upload-mode ${q(um)}: expected auto, monolithic, stream or chunked`);
  dstReg.uploadMode = um as "auto" | "monolithic" | "stream" | "chunked" | undefined;
  const concurrency = intFlag(argv, "concurrency", "j");
  dstReg.concurrency = concurrency;
  const dstOpts: TransportOptions = { registry: dstReg, existing: spec.existing };

  const names = destinationNames(spec.dst, strings(argv, "tag", "t"));
  const mountFrom = mountFromFlag(argv, spec);
  const source = await openSource(spec.src, srcOpts);
  const progress = progressRenderer(mode);
  try {
    const sink = await openSink(spec.dst, dstOpts);
    const stopInterrupt = onInterrupt(() => sink.abort());
    const result = await copyImages(source, sink, {
      platforms: platformChoice(argv, flags),
      compress: compressionFlag(argv),
      compressUncompressed: spec.compressUncompressed,
      format: formatFlag(argv),
      names,
      concurrency,
      mountFrom,
      onEvent: progress.onEvent,
      blobInfoCache: new BlobInfoCache(),
      retries: dstReg.retries,
    });
    stopInterrupt();
    progress.finish();
    const digestfile = oneString(argv, "digestfile");
    if (digestfile && result.images[0]) {
      await writeFile(`${digestfile}.tmp`, result.images[0].digest);
      await rename(`${digestfile}.tmp`, digestfile);
    }
    if (mode !== "json" && mode !== "quiet") for (const img of result.images) process.stdout.write(`${resultLine(spec.dst, img.digest)}\n`);
    return result;
  } finally {
    await source.close();
  }
}

/**
 * Ctrl-C / SIGTERM: let the sink clean up (temp dirs go, resumable partial downloads stay) and exit
 * 130 like a shell would. Returns a function that removes the handler.
 */
function onInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = async (sig: NodeJS.Signals) => {
    process.stderr.write(`\nimgx: interrupted (${sig}); cleaning up\n`);
    await Promise.race([cleanup().catch(() => {}), Bun.sleep(3000)]);
    process.exit(130);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** Names the destination reference carries plus --tag values; empty means "keep the source's names". */
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

function mountFromFlag(argv: string[], spec: TransferSpec): { registry: string; repository: string } | undefined {
  const v = oneString(argv, "mount-from");
  if (!v) return undefined;
  if (spec.dst.kind !== "docker") throw new ImgxError("USAGE", "Cannot use --mount-from: the destination is not a registry");
  const prefix = `${spec.dst.ref.registry}/`;
  return { registry: spec.dst.ref.registry, repository: v.startsWith(prefix) ? v.slice(prefix.length) : v };
}

function resultLine(dst: TransportRef, digest: string): string {
  if (dst.kind === "docker") return `${formatReference({ registry: dst.ref.registry, repository: dst.ref.repository })}@${digest}`;
  return `${dst.kind}:${dst.path}@${digest}`;
}
