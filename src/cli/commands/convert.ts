import { ImgxError, q } from "../../core/errors.ts";
import { parseTransportRef } from "../../transports/parse.ts";
import type { CliContext } from "../context.ts";
import { addCopyFlags, addOutputFlags, COMPRESS_LEVEL_HELP, type Flags } from "../options.ts";
import { runTransfer } from "./transfer.ts";

export function registerConvert(ctx: CliContext): void {
  const c = ctx.cli
    .command("convert <src> <dst>", "Convert between docker-save tarballs, OCI layouts and OCI archives (no registry)")
    .option("--compress <none|gzip|zstd|keep>", "Layer compression of the result (default: keep; docker-archive is always uncompressed)")
    .option("--compress-level <n>", COMPRESS_LEVEL_HELP)
    .option("--format <oci|docker>", "Manifest format (default: what the destination format uses)")
    .option("--force", "Replace an existing archive / add to an existing OCI layout instead of failing");
  addOutputFlags(addCopyFlags(c))
    .example("imgx convert save.tar oci:app-oci")
    .example("imgx convert --platform linux/arm64 oci:multi:1.0 docker-archive:arm64.tar:app:1.0")
    .example("imgx convert --compress zstd save.tar oci-archive:app.oci.tar")
    .action(async (src: string, dst: string, flags: Flags) => {
      const s = parseTransportRef(src);
      const d = parseTransportRef(dst, { forWrite: true });
      if (s.kind === "docker" || d.kind === "docker")
        throw new ImgxError("USAGE", `Cannot convert ${q(s.kind === "docker" ? src : dst)}: convert works on local files; use imgx pull, push or copy for registries`);
      await runTransfer({ src: s, dst: d, existing: flags.force ? "update" : "error" }, ctx, flags);
    });
}
