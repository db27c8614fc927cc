import { ImgxError, q } from "../../core/errors.ts";
import { parseDockerReference } from "../../core/reference.ts";
import { parseTransportRef, type LocalKind } from "../../transports/parse.ts";
import type { CliContext } from "../context.ts";
import { addCopyFlags, addOutputFlags, addRegistryFlags, oneString, type Flags } from "../options.ts";
import { runTransfer } from "./transfer.ts";

export function registerPull(ctx: CliContext): void {
  const c = ctx.cli
    .command("pull <ref> [dest]", "Pull an image from a registry into an OCI layout (default), OCI archive or docker-save tarball")
    .option("--format <oci|oci-archive|docker-archive>", "Format for a bare DEST path (default: oci, or docker-archive for *.tar)");
  addOutputFlags(addRegistryFlags(addCopyFlags(c)))
    .example("imgx pull alpine:3.20 ./alpine")
    .example("imgx pull --platform linux/arm64 registry.example.com/team/app:1.2 ./app-oci")
    .example("imgx pull --format docker-archive localhost:5000/app:1.0 app.tar   # then: docker load -i app.tar")
    .action(async (ref: string, dest: string | undefined, flags: Flags) => {
      const src = parseTransportRef(ref.startsWith("docker://") ? ref : `docker://${ref}`);
      if (src.kind !== "docker") throw new ImgxError("USAGE", `Cannot pull ${q(ref)}: not a registry reference`);
      const fmt = oneString(ctx.argv, "format");
      if (fmt !== undefined && fmt !== "oci" && fmt !== "oci-archive" && fmt !== "docker-archive")
        throw new ImgxError("USAGE", `Cannot use --format ${q(fmt)}: expected oci, oci-archive or docker-archive`);
      const target = dest ?? defaultDest(ref);
      const dst = parseTransportRef(target, { forWrite: true, defaultLocal: fmt as LocalKind | undefined });
      if (dst.kind === "docker") throw new ImgxError("USAGE", `Cannot pull into ${q(target)}: that is a registry; use imgx copy`);
      // pull's --format names the output container, not a manifest family
      await runTransfer({ src, dst, existing: "update", formatIsContainer: true }, ctx, flags);
    });
}

/** An OCI layout directory named after the repository's last path component. */
function defaultDest(ref: string): string {
  const r = parseDockerReference(ref);
  return `./${r.repository.split("/").pop()}`;
}
