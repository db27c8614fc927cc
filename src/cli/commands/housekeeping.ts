import { catalog, deleteImage } from "../../app/housekeeping.ts";
import type { CliContext } from "../context.ts";
import { addOutputFlags, addRegistryFlags, intFlag, registryOptions, strings, type Flags } from "../options.ts";

/** Commands that look after what a registry holds: catalog, delete. */
export function registerHousekeeping(ctx: CliContext): void {
  addOutputFlags(
    addRegistryFlags(
      ctx.cli
        .command("catalog <registry>", "List the repositories a registry holds (/v2/_catalog, follows pagination)")
        .option("--page-size <n>", "Repositories asked for per page (default 1000; a registry with a lower limit is paged at its own size)")
        .option("--repo <regex>", "Only repositories matching this regular expression (whole name); repeatable"),
    ),
  )
    .example("imgx catalog localhost:5000")
    .example("imgx catalog --json --repo 'team/.*' registry.example.com | jq -r '.repositories[]'")
    .action(async (registry: string, flags: Flags) => {
      const r = await catalog(registry, await registryOptions(ctx, ctx.argv, flags), {}, { repos: strings(ctx.argv, "repo"), pageSize: intFlag(ctx.argv, "page-size") || undefined });
      if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(r.repositories.map((x) => `${x}\n`).join(""));
    });

  addOutputFlags(addRegistryFlags(ctx.cli.command("delete <ref>", "Delete a manifest by digest (every tag on it goes too), or just a tag")))
    .example("imgx delete localhost:5000/team/app@sha256:…")
    .example("imgx delete localhost:5000/team/app:old-tag")
    .action(async (r: string, flags: Flags) => {
      const out = await deleteImage(r, await registryOptions(ctx, ctx.argv, flags));
      if (flags.json) process.stdout.write(`${JSON.stringify({ deleted: out.reference, how: out.how })}\n`);
      else if (!flags.quiet)
        process.stderr.write(
          out.how === "digest"
            ? `Deleted ${out.reference} (and every tag pointing at it)\n`
            : out.how === "tag"
              ? `Deleted tag ${out.reference}\n`
              : `Deleted tag ${out.reference} (the registry has no tag delete: the tag was moved to a placeholder manifest, which was deleted)\n`,
        );
    });
}
