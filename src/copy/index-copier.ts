import { sha256Bytes } from "../core/digest.ts";
import { ImgxError } from "../core/errors.ts";
import { encodeJson } from "../core/json.ts";
import type { Descriptor, ImageIndex } from "../core/manifest.ts";
import { familyOf, indexMediaType, isIndexType } from "../core/media-types.ts";
import type { ManifestData } from "../transports/types.ts";
import { copyManifest, type CopyContext } from "./image-copier.ts";
import { copySchema1 } from "./schema1-copier.ts";
import { selectChildren, type PlatformChoice } from "./select.ts";
import type { ImageName } from "../core/reference.ts";

/**
 * Copies a top-level image: a manifest as it is, or an index either whole / filtered to several
 * platforms (when the sink stores indexes) or resolved to the single best platform.
 */
export async function copyTop(ctx: CopyContext, data: ManifestData, names: readonly ImageName[], choice: PlatformChoice): Promise<Descriptor> {
  if (data.parsed.kind === "manifest") return copyManifest(ctx, data, names, true);
  if (data.parsed.kind === "schema1") return copySchema1(ctx, data, names, true);
  const keepIndex = choice.all || choice.platforms.length > 1;
  if (keepIndex) {
    if (!ctx.sink.caps.acceptsIndex)
      throw new ImgxError("UNSUPPORTED", `Cannot write a multi-platform index to ${ctx.sink.label}: it holds one image per name`, {
        hint: "choose one --platform",
      });
    return copyIndex(ctx, data, names, choice, true);
  }
  const [child] = selectChildren(data.parsed.index, choice, `${ctx.source.label} (${data.descriptor.digest})`);
  const childData = await ctx.source.manifest(child!);
  childData.descriptor = { ...childData.descriptor, platform: child!.platform };
  return copyTop(ctx, childData, names, choice);
}

async function copyIndex(ctx: CopyContext, data: ManifestData, names: readonly ImageName[], choice: PlatformChoice, top: boolean): Promise<Descriptor> {
  if (data.parsed.kind !== "index") throw new ImgxError("BAD_MANIFEST", `Cannot copy ${data.descriptor.digest}: expected an index`);
  const index = data.parsed.index;
  const children = selectChildren(index, choice, `${ctx.source.label} (${data.descriptor.digest})`);
  const out = await Promise.all(
    children.map(async (child) => {
      const childData = await ctx.source.manifest(child);
      const d = isIndexType(childData.parsed.mediaType) ? await copyIndex(ctx, childData, [], { all: true }, false) : childData.parsed.kind === "schema1" ? await copySchema1(ctx, childData, [], false) : await copyManifest(ctx, childData, [], false);
      const desc: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
      if (child.platform) desc.platform = child.platform;
      if (child.annotations) desc.annotations = child.annotations;
      if (child.artifactType) desc.artifactType = child.artifactType;
      return desc;
    }),
  );
  const srcFamily = familyOf(data.parsed.mediaType);
  const family = ctx.family ?? srcFamily;
  const changed = family !== srcFamily || out.length !== index.manifests.length || out.some((d, i) => d.digest !== index.manifests[i]!.digest);
  const bytes = changed ? encodeJson(rebuildIndex(index, family, out)) : data.bytes;
  const desc: Descriptor = {
    mediaType: changed ? indexMediaType(family) : data.parsed.mediaType,
    digest: changed ? sha256Bytes(bytes) : data.descriptor.digest,
    size: bytes.byteLength,
  };
  await ctx.sink.putManifest(desc, bytes, names, top);
  ctx.emit({ type: "manifest", digest: desc.digest, mediaType: desc.mediaType, size: desc.size, names: names.map((n) => n.given) });
  return desc;
}

function rebuildIndex(index: ImageIndex, family: "oci" | "docker", manifests: Descriptor[]): Record<string, unknown> {
  const out: Record<string, unknown> = { schemaVersion: 2, mediaType: indexMediaType(family) };
  if (family === "oci" && index.artifactType) out.artifactType = index.artifactType;
  out.manifests = manifests;
  if (family === "oci" && index.subject) out.subject = index.subject;
  if (index.annotations) out.annotations = index.annotations;
  return out;
}
