import { parseTransportRef } from "../../transports/parse.ts";
import type { CliContext } from "../context.ts";
import { addCopyFlags, addOutputFlags, addRegistryFlags, COMPRESS_LEVEL_HELP, type Flags } from "../options.ts";
import { runTransfer } from "./transfer.ts";

export function registerCopy(ctx: CliContext): void {
  const c = ctx.cli
    .command("copy <src> <dst>", "Copy an image between any two places: registry, docker-archive, oci, oci-archive")
    .option("--compress <none|gzip|zstd|keep>", "Layer compression of the result (default: keep)")
    .option("--compress-level <n>", COMPRESS_LEVEL_HELP)
    .option("--format <oci|docker>", "Manifest format to write (default: keep, or what the destination requires)")
    .option("--mount-from <repo>", "Cross-mount blobs from this repository of the destination registry")
    .option("--chunk-size <size>", "Chunk size for chunked uploads (e.g. 16M)")
    .option("--upload-mode <auto|monolithic|stream|chunked>", "auto: one PUT for small blobs, PATCH chunks for large ones, one streamed PATCH when the size is unknown")
    .option("--force", "Replace an existing archive instead of failing");
  addOutputFlags(addRegistryFlags(addCopyFlags(c), ["src-", "dest-"]))
    .example("imgx copy registry.example.com/team/app:1.2 localhost:5000/team/app:1.2")
    .example("imgx copy --all-platforms docker://ghcr.io/org/tool:v1 oci:tool-oci")
    .example("imgx copy --src-creds ci:secret src.example.com/a:1 --dest-creds me:pw dst.example.com/a:1")
    .action(async (src: string, dst: string, flags: Flags) => {
      const s = parseTransportRef(src);
      const d = parseTransportRef(dst, { forWrite: true });
      await runTransfer({ src: s, dst: d, existing: d.kind === "oci" || flags.force ? "update" : "error" }, ctx, flags);
    });
}
