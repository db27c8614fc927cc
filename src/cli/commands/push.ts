import { ImgxError, q } from "../../core/errors.ts";
import { parseTransportRef } from "../../transports/parse.ts";
import type { CliContext } from "../context.ts";
import { addCopyFlags, addOutputFlags, addRegistryFlags, COMPRESS_LEVEL_HELP, type Flags } from "../options.ts";
import { runTransfer } from "./transfer.ts";

export function registerPush(ctx: CliContext): void {
  const c = ctx.cli
    .command("push <src> <ref>", "Push a docker-save tarball, OCI layout or OCI archive to a registry")
    .option("--compress <gzip|zstd|none|keep>", "Layer compression (default: gzip for uncompressed layers, like docker push; compressed layers kept)")
    .option("--compress-level <n>", COMPRESS_LEVEL_HELP)
    .option("--format <docker|oci>", "Manifest format to push (default: keep the source's)")
    .option("--mount-from <repo>", "Cross-mount blobs from this repository of the same registry")
    .option("--chunk-size <size>", "Chunk size for chunked uploads (e.g. 16M)")
    .option("--upload-mode <auto|monolithic|stream|chunked>", "auto: one PUT for small blobs, PATCH chunks for large ones, one streamed PATCH when the size is unknown");
  addOutputFlags(addRegistryFlags(addCopyFlags(c)))
    .example("imgx push save.tar localhost:5000/team/app:1.2")
    .example("imgx push --all-platforms oci:multi-oci registry.example.com/team/app:1.2 --tag latest")
    .example("imgx push --compress zstd --format oci app.tar registry.example.com/app:1.2")
    .action(async (src: string, ref: string, flags: Flags) => {
      const s = parseTransportRef(src);
      if (s.kind === "docker") throw new ImgxError("USAGE", `Cannot push from ${q(src)}: it is a registry reference; use imgx copy`);
      const d = parseTransportRef(ref.startsWith("docker://") ? ref : `docker://${ref}`);
      await runTransfer({ src: s, dst: d, existing: "update", compressUncompressed: "gzip" }, ctx, flags);
    });
}
