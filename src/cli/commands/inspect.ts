import { ImgxError } from "../../core/errors.ts";
import { inspect, referrers } from "../../app/inspect.ts";
import type { ReferrerTree } from "../../app/inspect.ts";
import type { ImageDescription } from "../../copy/describe.ts";
import type { CliContext } from "../context.ts";
import { humanBytes, shortDigest } from "../format.ts";
import { addOutputFlags, addRegistryFlags, platformChoice, registryOptions, type Flags } from "../options.ts";

export function registerInspect(ctx: CliContext): void {
  const c = ctx.cli
    .command("inspect <src>", "Show an image's manifest or index, platforms, config summary and layers")
    .option("--raw", "Print the exact manifest/index bytes (with --platform: the selected platform's manifest)")
    .option("--config", "Print the exact config bytes")
    .option("--platform <os/arch[/variant]>", "Platform to describe from an index (default: the host's)")
    .option("--all-platforms", "Describe only the index, not one platform's image")
    .option("--referrers", "List the artifacts that refer to the image (signatures, SBOMs…), and theirs in turn");
  addOutputFlags(addRegistryFlags(c))
    .example("imgx inspect save.tar")
    .example("imgx inspect --platform linux/arm64 docker://localhost:5000/app:1.2")
    .example("imgx inspect --raw oci:app-oci:1.2 | jq .")
    .action(async (src: string, flags: Flags) => {
      if (flags.referrers) return printReferrers(await referrers({ src, registry: await registryOptions(ctx, ctx.argv, flags) }), !!flags.json);
      const explicitPlatform = ctx.argv.some((a) => a === "--platform" || a.startsWith("--platform="));
      const images = await inspect({ src, platforms: platformChoice(ctx.argv, flags), registry: await registryOptions(ctx, ctx.argv, flags) });
      if (flags.raw || flags.config) {
        for (const d of images) {
          if (flags.config && d.schema1)
            throw new ImgxError("UNSUPPORTED", `Cannot print the config of ${src}: a Docker schema 1 image has none; imgx writes one when it pulls or copies the image`, {
              hint: `pull it first (imgx pull ${src} DIR) and inspect --config the result`,
            });
          const bytes = flags.config ? d.raw.config : explicitPlatform && d.raw.manifest ? d.raw.manifest : d.raw.top;
          if (bytes) process.stdout.write(bytes);
        }
        return;
      }
      if (flags.json) {
        const out = images.map(({ raw, ...rest }) => ({ ...rest, manifestJson: JSON.parse(new TextDecoder().decode(raw.top)) }));
        process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
        return;
      }
      process.stdout.write(images.map(renderText).join("\n"));
    });
}

function printReferrers(found: ReferrerTree[], json: boolean): void {
  if (json) {
    const docs = found.map((o) => ({ subject: o.subject, referrers: o.referrers.map(({ depth, ...d }) => d) }));
    process.stdout.write(`${JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2)}\n`);
    return;
  }
  for (const o of found) {
    process.stdout.write(`Referrers of ${o.subject}: ${o.referrers.length || "none"}\n`);
    for (const r of o.referrers) process.stdout.write(`${"  ".repeat(r.depth + 1)}${r.digest}  ${r.artifactType ?? r.mediaType}  ${humanBytes(r.size)}\n`);
  }
}

function renderText(d: ImageDescription): string {
  const lines: string[] = [];
  if (d.names.length) lines.push(`Name:       ${d.names.join(", ")}`);
  lines.push(`Digest:     ${d.digest}`, `MediaType:  ${d.mediaType}`);
  if (d.platforms) {
    lines.push("Platforms:");
    for (const p of d.platforms) lines.push(`  ${p.platform.padEnd(16)} ${p.digest}`);
  }
  if (d.manifest) lines.push(`Selected:   ${d.manifest.platform ?? "(no platform)"} ${d.manifest.digest}`);
  if (d.schema1) lines.push(`Schema 1:   ${d.schema1.signed ? "signed" : "unsigned"}, converted to schema 2/OCI on pull/copy${d.schema1.emptyLayers ? ` (${d.schema1.emptyLayers} empty layers dropped)` : ""}`);
  if (d.artifactType) lines.push(`Artifact:   ${d.artifactType} (not a container image)`);
  if (d.config) {
    const c = d.config;
    lines.push(`Platform:   ${[c.os, c.architecture, c.variant].filter(Boolean).join("/")}`);
    if (c.created) lines.push(`Created:    ${c.created}`);
    if (c.entrypoint?.length) lines.push(`Entrypoint: ${JSON.stringify(c.entrypoint)}`);
    if (c.cmd?.length) lines.push(`Cmd:        ${JSON.stringify(c.cmd)}`);
    if (c.workingDir) lines.push(`WorkingDir: ${c.workingDir}`);
    if (c.user) lines.push(`User:       ${c.user}`);
  }
  if (d.layers) {
    lines.push(`Layers:     ${d.layers.length} (${humanBytes(d.totalSize ?? 0)} total)`);
    for (const l of d.layers) lines.push(`  ${shortDigest(l.digest)}  ${humanBytes(l.size).padStart(10)}  ${l.mediaType}`);
  }
  return `${lines.join("\n")}\n`;
}
