import { ImgxError } from "../../core/errors.ts";
import { compileTagFilter } from "../../core/tag-filter.ts";
import { parseDockerReference } from "../../core/reference.ts";
import { RegistryClient } from "../../transports/registry/client.ts";
import { listCatalog } from "../../transports/registry/catalog.ts";
import { deleteReference } from "../../transports/registry/delete.ts";
import type { CliContext } from "../context.ts";
import { addOutputFlags, addRegistryFlags, intFlag, registryOptions, strings, type Flags } from "../options.ts";

/** The registry host a user named ("localhost:5000", "https://r.example.com/", "docker.io"). */
export function registryArg(s: string): string {
  return parseDockerReference(`${s.replace(/^(docker|https?):\/\//, "").replace(/\/.*$/, "")}/x`).registry;
}

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
      const host = registryArg(registry);
      const client = new RegistryClient(host, await registryOptions(ctx, ctx.argv, flags));
      const pick = compileTagFilter({ regex: strings(ctx.argv, "repo") });
      const repos = pick(await listCatalog(client, { pageSize: intFlag(ctx.argv, "page-size") || 1000 }));
      if (flags.json) process.stdout.write(`${JSON.stringify({ registry: host, repositories: repos })}\n`);
      else process.stdout.write(repos.map((r) => `${r}\n`).join(""));
    });

  addOutputFlags(addRegistryFlags(ctx.cli.command("delete <ref>", "Delete a manifest by digest (every tag on it goes too), or just a tag")))
    .example("imgx delete localhost:5000/team/app@sha256:…")
    .example("imgx delete localhost:5000/team/app:old-tag")
    .action(async (r: string, flags: Flags) => {
      const raw = r.replace(/^docker:\/\//, "");
      const ref = parseDockerReference(raw, { defaultTag: false });
      // "delete repo" must never mean "delete repo:latest" by accident
      if (!ref.tag && !ref.digest) throw new ImgxError("USAGE", `Cannot delete ${JSON.stringify(raw)}: name a tag (repo:tag) or a digest (repo@sha256:…)`);
      if (ref.tag && ref.digest) throw new ImgxError("USAGE", `Cannot delete ${JSON.stringify(raw)}: give a tag or a digest, not both`);
      const client = new RegistryClient(ref.registry, await registryOptions(ctx, ctx.argv, flags));
      const out = await deleteReference(client, ref);
      const subject = `${ref.registry}/${ref.repository}${ref.digest ? `@${ref.digest}` : `:${ref.tag}`}`;
      if (flags.json) process.stdout.write(`${JSON.stringify({ deleted: subject, how: out.how })}\n`);
      else if (!flags.quiet)
        process.stderr.write(
          out.how === "digest" ? `Deleted ${subject} (and every tag pointing at it)\n` : out.how === "tag" ? `Deleted tag ${subject}\n` : `Deleted tag ${subject} (the registry has no tag delete: the tag was moved to a placeholder manifest, which was deleted)\n`,
        );
    });
}
