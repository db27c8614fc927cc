import { readFileSync } from "node:fs";
import { ImgxError, q } from "../../core/errors.ts";
import { sync, type SyncEntry, type SyncEvent } from "../../app/sync.ts";
import { parseSyncConfig } from "../../app/sync-config.ts";
import type { CliContext } from "../context.ts";
import { duration, humanBytes } from "../format.ts";
import { addOutputFlags, addRegistryFlags, addTagFilterFlags, intFlag, oneString, platformChoice, registryOptions, strings, tagFilterFlags, type Flags } from "../options.ts";
import { interruptSignal } from "../interrupt.ts";
import { outputMode } from "../progress.ts";
import { RegistryClients } from "../../transports/registry/clients.ts";

export function registerSync(ctx: CliContext): void {
  const c = ctx.cli
    .command("sync [src] [dst]", "Mirror repositories and tags: registry repo, whole registry (--repo) or OCI layout bundle, to a registry or a bundle; only what changed moves")
    .option("--config <file>", "sync.yaml with many source/target entries (see README)")
    .option("--repo <regex>", "Repositories of a whole registry or bundle to take (whole name; plain names skip the catalog); repeatable")
    .option("--all-tags", "Every tag (the default when no tag filter is given)")
    .option("--platform <os/arch[/variant]>", "Only these platforms of multi-platform images; repeatable or comma-separated (default: all, so digests stay the same)")
    .option("--all-platforms", "Every platform (the default)")
    .option("--referrers", "Also carry the artifacts that refer to each image (signatures, SBOMs)")
    .option("--dry-run", "Show what would be copied; copy nothing")
    .option("--images <n>", "Images copied at once (default 4)")
    .option("-j, --concurrency <n>", "Blobs moved at once per image (default 4)")
    .option("--max-connections <n>", "Requests in flight at once per registry, all images together (default 16)");
  addOutputFlags(addRegistryFlags(addTagFilterFlags(c), ["src-", "dest-"]))
    .example("imgx sync registry.example.com/team/app localhost:5000/team/app --semver '>=1.2'")
    .example("imgx sync --repo 'team/.*' registry.example.com oci:/media/usb/bundle")
    .example("imgx sync oci:/media/usb/bundle airgap.local:5000")
    .example("imgx sync --config sync.yaml --dry-run")
    .action(async (src: string | undefined, dst: string | undefined, flags: Flags) => {
      const argv = ctx.argv;
      let entries: SyncEntry[];
      const config = oneString(argv, "config");
      const tags = tagFilterFlags(argv);
      const explicitPlatform = strings(argv, "platform").length > 0 || !!flags.allPlatforms;
      if (config) {
        if (src || dst) throw new ImgxError("USAGE", "Cannot use --config with SRC and DST: put every mapping in the file");
        let text: string;
        try {
          text = readFileSync(config, "utf8");
        } catch (e) {
          throw new ImgxError("USAGE", `Cannot read --config ${q(config)}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
        }
        entries = parseSyncConfig(text, config);
      } else {
        if (!src || !dst) throw new ImgxError("USAGE", "Cannot sync: give SRC and DST, or --config FILE (see imgx sync --help)");
        entries = [{ src, dst, repos: strings(argv, "repo"), tags, platforms: explicitPlatform ? platformChoice(argv, flags) : { all: true }, referrers: !!flags.referrers }];
      }
      const mode = outputMode(flags);
      // one budget per registry, shared by every image in flight (a GET and an upload per blob)
      const maxConnections = intFlag(argv, "max-connections") || 16;
      const interrupt = interruptSignal();
      try {
        const r = await sync(
          {
            entries,
            srcRegistry: { ...(await registryOptions(ctx, argv, flags, "src-")), maxConnections },
            dstRegistry: { ...(await registryOptions(ctx, argv, flags, "dest-")), maxConnections },
            images: intFlag(argv, "images") || undefined,
            concurrency: intFlag(argv, "concurrency", "j") || undefined,
            dryRun: !!flags.dryRun,
          },
          { signal: interrupt.signal, onEvent: render(mode), clients: new RegistryClients() },
        );
        if (r.failed) {
          const first = r.failures[0]!.error;
          const total = r.copied + r.current + r.failed + r.wouldCopy;
          throw new ImgxError(first instanceof ImgxError ? first.code : "REGISTRY", `Cannot sync ${r.failed} of ${total} images (first: ${first.message})`);
        }
      } finally {
        // after Ctrl-C: finished images are kept (a bundle lists them), a rerun continues
        interrupt.dispose();
      }
    });
}

/** One line per image on stderr and a summary; NDJSON events on stdout with --json. */
function render(mode: ReturnType<typeof outputMode>): (e: SyncEvent) => void {
  if (mode === "quiet") return () => {};
  if (mode === "json") return (e) => process.stdout.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
  return (e) => {
    if (e.type === "sync-plan") process.stderr.write(`sync: ${e.images} image${e.images === 1 ? "" : "s"} to check\n`);
    else if (e.type === "sync-image") {
      const what = e.state === "copied" ? ` ${humanBytes(e.bytes)} in ${duration(e.seconds)}` : e.state === "failed" ? `: ${e.error}` : "";
      const refs = e.referrers ? ` (+${e.referrers} referrer${e.referrers === 1 ? "" : "s"})` : "";
      process.stderr.write(`${e.state.padEnd(10)} ${e.source} -> ${e.target}${what}${refs}\n`);
    } else if (e.type === "sync-summary") {
      const parts = [`${e.copied} copied`, `${e.current} already current`, `${e.failed} failed`];
      if (e.wouldCopy) parts.splice(0, 1, `${e.wouldCopy} would be copied`);
      process.stderr.write(`done: ${e.images} images: ${parts.join(", ")}; ${humanBytes(e.bytes)} in ${duration(e.seconds)}\n`);
    }
  };
}
