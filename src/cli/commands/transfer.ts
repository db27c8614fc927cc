import { ImgxError, q } from "../../core/errors.ts";
import type { Compression } from "../../core/media-types.ts";
import { resultReference, transfer } from "../../app/transfer.ts";
import type { CopyResult } from "../../copy/pipeline.ts";
import type { TransportRef } from "../../transports/parse.ts";
import { RegistryClients } from "../../transports/registry/clients.ts";
import type { CliContext } from "../context.ts";
import { interruptSignal } from "../interrupt.ts";
import { compressionFlag, compressLevelFlag, formatFlag, intFlag, oneString, platformChoice, registryOptions, sizeFlag, strings, type Flags } from "../options.ts";
import { outputMode, progressRenderer } from "../progress.ts";

export interface TransferSpec {
  src: TransportRef;
  dst: TransportRef;
  /** What to do with an existing destination. */
  existing: "error" | "update";
  /** Compression for uncompressed layers when --compress is not given (push: gzip, like docker push). */
  compressUncompressed?: Compression;
  /** --format chose the destination's container (pull), not the manifest family. */
  formatIsContainer?: boolean;
}

const UPLOAD_MODES = ["auto", "monolithic", "stream", "chunked"] as const;

/** convert, pull, push and copy: flags → app/transfer, Ctrl-C → its AbortSignal, result digest(s) on stdout. */
export async function runTransfer(spec: TransferSpec, ctx: CliContext, flags: Flags): Promise<CopyResult> {
  const argv = ctx.argv;
  const mode = outputMode(flags);
  const dstRegistry = await registryOptions(ctx, argv, flags, "dest-");
  dstRegistry.chunkSize = sizeFlag(argv, "chunk-size");
  const um = oneString(argv, "upload-mode");
  if (um !== undefined && !(UPLOAD_MODES as readonly string[]).includes(um)) throw new ImgxError("USAGE", `Cannot use --upload-mode ${q(um)}: expected auto, monolithic, stream or chunked`);
  dstRegistry.uploadMode = um as (typeof UPLOAD_MODES)[number] | undefined;
  const progress = progressRenderer(mode);
  const interrupt = interruptSignal();
  try {
    const result = await transfer(
      {
        src: spec.src,
        dst: spec.dst,
        existing: spec.existing,
        platforms: platformChoice(argv, flags),
        compress: compressionFlag(argv),
        compressUncompressed: spec.compressUncompressed,
        compressLevel: compressLevelFlag(argv),
        format: spec.formatIsContainer ? undefined : formatFlag(argv),
        tags: strings(argv, "tag", "t"),
        concurrency: intFlag(argv, "concurrency", "j"),
        mountFrom: oneString(argv, "mount-from"),
        srcRegistry: await registryOptions(ctx, argv, flags, "src-"),
        dstRegistry,
        digestFile: oneString(argv, "digestfile"),
        referrers: !!flags.referrers,
      },
      { signal: interrupt.signal, onEvent: progress.onEvent, clients: new RegistryClients() },
    );
    progress.finish();
    if (mode !== "json" && mode !== "quiet") for (const img of result.images) process.stdout.write(`${resultReference(spec.dst, img.digest)}\n`);
    return result;
  } finally {
    interrupt.dispose();
  }
}
