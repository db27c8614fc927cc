import { digest, login, logout, tags } from "../../app/registry-info.ts";
import type { CliContext } from "../context.ts";
import { addOutputFlags, addRegistryFlags, addTagFilterFlags, registryOptions, tagFilterFlags, type Flags } from "../options.ts";

/** Commands that talk to a registry without copying: tags, digest, login, logout. */
export function registerRegistryCommands(ctx: CliContext): void {
  addOutputFlags(addRegistryFlags(addTagFilterFlags(ctx.cli.command("tags <repo>", "List a repository's tags (follows pagination)"))))
    .example("imgx tags localhost:5000/team/app")
    .example("imgx tags --semver '>=1.2 <2' --latest 3 registry.example.com/team/app")
    .example("imgx tags --json registry.example.com/team/app | jq -r '.tags[]'")
    .action(async (repo: string, flags: Flags) => {
      const r = await tags(repo, await registryOptions(ctx, ctx.argv, flags), {}, tagFilterFlags(ctx.argv));
      if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(r.tags.map((t) => `${t}\n`).join(""));
    });

  addOutputFlags(addRegistryFlags(ctx.cli.command("digest <ref>", "Print the manifest digest a reference resolves to")))
    .example("imgx digest localhost:5000/team/app:1.2")
    .example("imgx digest --json alpine:3.20")
    .action(async (r: string, flags: Flags) => {
      const d = await digest(r, await registryOptions(ctx, ctx.argv, flags));
      if (flags.json) process.stdout.write(`${JSON.stringify(d)}\n`);
      else process.stdout.write(`${d.digest}\n`);
    });

  addOutputFlags(addRegistryFlags(ctx.cli.command("login <registry>", "Verify credentials and store them in Docker's config.json (DOCKER_CONFIG honoured)")))
    .example("imgx login -u me --password-stdin registry.example.com < token.txt")
    .example("imgx login --creds ci:secret localhost:5000 --tls-verify=false")
    .action(async (registry: string, flags: Flags) => {
      await login(registry, await registryOptions(ctx, ctx.argv, flags));
      if (!flags.quiet) process.stderr.write(`Login succeeded for ${registry}\n`);
    });

  addOutputFlags(ctx.cli.command("logout <registry>", "Remove stored credentials for a registry"))
    .example("imgx logout registry.example.com")
    .action(async (registry: string, flags: Flags) => {
      await logout(registry);
      if (!flags.quiet) process.stderr.write(`Removed credentials for ${registry}\n`);
    });
}
