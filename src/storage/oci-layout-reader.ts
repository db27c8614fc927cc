import { ImgxError, q } from "../core/errors.ts";
import { asObject, MAX_JSON_BYTES, parseJsonBytes } from "../core/json.ts";
import { parseManifestBytes, type Descriptor, type ImageIndex } from "../core/manifest.ts";
import { isIndexType, isManifestType } from "../core/media-types.ts";
import { isTag, parseImageName } from "../core/reference.ts";
import { blobPath, canonicalName, namesOf, REF_NAME } from "./layout-names.ts";
import { referrerDescriptor, subjectOf } from "../core/referrers.ts";
import { checkBytes } from "../core/verify.ts";
import type { ManifestData, SourceImage } from "../core/manifest.ts";
import type { BlobFile } from "./file-tree.ts";
import type { FileTree } from "./file-tree.ts";

/** Reads an OCI image layout held in a directory or a tar (OCI archive, Docker 25+ save). */
export class OciLayoutReader {
  private constructor(
    readonly tree: FileTree,
    readonly index: ImageIndex,
  ) {}

  static async open(tree: FileTree): Promise<OciLayoutReader> {
    if (tree.size("oci-layout") === undefined)
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(tree.label)}: no oci-layout file, so it is not an OCI image layout`);
    const layout = asObject(parseJsonBytes(await tree.readSmall("oci-layout", 4096), `${tree.label}/oci-layout`), `${tree.label}/oci-layout`);
    if (typeof layout.imageLayoutVersion !== "string")
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(`${tree.label}/oci-layout`)}: imageLayoutVersion is missing`);
    if (tree.size("index.json") === undefined) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(tree.label)}: index.json is missing`);
    const what = `${tree.label}/index.json`;
    const parsed = parseManifestBytes(await tree.readSmall("index.json", MAX_JSON_BYTES), what);
    if (parsed.kind !== "index") throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(what)}: it is not an image index`);
    return new OciLayoutReader(tree, parsed.index);
  }

  /** Top-level images, all or those a name selects (ref.name tag, full containerd name, or digest). */
  images(name?: string): SourceImage[] {
    const all = this.index.manifests.map((d) => ({ descriptor: d, names: namesOf(d) }));
    if (!name) return all;
    if (name.startsWith("@") || name.startsWith("sha256:")) {
      const digest = name.replace(/^@/, "");
      const hit = all.filter((i) => i.descriptor.digest === digest);
      if (hit.length) return hit.slice(0, 1);
    } else {
      // A full name is unique; a bare tag (ref.name) is not when Docker 25 saved "a:1" and "b:1".
      const canon = canonicalName(name);
      const full = all.filter((i) => canon && i.names.some((n) => n !== i.descriptor.annotations?.[REF_NAME] && canonicalName(n) === canon));
      if (full.length) return full.slice(0, 1);
      let hit = all.filter((i) => i.descriptor.annotations?.[REF_NAME] === name || (canon && i.names.some((n) => canonicalName(n) === canon)));
      // a bare tag also finds a name written whole ("app:1.0", skopeo's form), when only one image has that tag
      if (!hit.length && isTag(name)) hit = all.filter((i) => [...i.names, i.descriptor.annotations?.[REF_NAME] ?? ""].some((n) => n.includes(":") && parseImageName(n).tag === name));
      const digests = [...new Set(hit.map((i) => i.descriptor.digest))];
      if (digests.length > 1)
        throw new ImgxError("USAGE", `Cannot choose image ${q(name)} in ${q(this.tree.label)}: ${digests.length} different images carry that name: ${digests.map((d) => `@${d}`).join(", ")}`, {
          hint: `choose one by digest (the reference's name part "@sha256:…")${hit.some((i) => i.names.some((n) => n !== name)) ? ` or by full name: ${[...new Set(hit.flatMap((i) => i.names))].join(", ")}` : ""}`,
        });
      if (hit.length) return hit.slice(0, 1);
    }
    const present = all.flatMap((i) => i.names);
    throw new ImgxError("NOT_FOUND", `Cannot find image ${q(name)} in ${q(this.tree.label)}: ${present.length ? `names present: ${present.join(", ")}` : "it has no named images"}`);
  }

  async manifest(desc: Descriptor): Promise<ManifestData> {
    const what = `manifest ${desc.digest} in ${this.tree.label}`;
    if (!isIndexType(desc.mediaType) && !isManifestType(desc.mediaType) && !desc.mediaType.includes("manifest"))
      throw new ImgxError("UNSUPPORTED", `Cannot read ${what}: unknown media type ${q(desc.mediaType)}`);
    if (desc.size > MAX_JSON_BYTES) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: ${desc.size} bytes exceeds the 4 MiB limit`);
    const p = blobPath(desc.digest);
    if (this.tree.size(p) === undefined) throw new ImgxError("BLOB_UNKNOWN", `Cannot read ${what}: ${p} is missing`);
    const bytes = await this.tree.readSmall(p, MAX_JSON_BYTES);
    checkBytes(bytes, desc, what);
    return { descriptor: desc, bytes, parsed: parseManifestBytes(bytes, what, desc.mediaType, "descriptor") };
  }

  private subjects?: Promise<Map<string, Descriptor[]>>;

  /**
   * Artifacts in this layout whose `subject` is the given manifest. A layout keeps them as
   * top-level entries of index.json (as oras and imgx write them), so every listed manifest is
   * read once and grouped by subject.
   */
  async referrers(subject: Descriptor): Promise<Descriptor[]> {
    this.subjects ??= (async () => {
      const bySubject = new Map<string, Descriptor[]>();
      for (const d of this.index.manifests) {
        if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) continue;
        const m = await this.manifest(d);
        const s = subjectOf(m.parsed);
        if (!s) continue;
        const list = bySubject.get(s.digest) ?? [];
        if (!list.some((x) => x.digest === d.digest)) list.push(referrerDescriptor(d, m.parsed));
        bySubject.set(s.digest, list);
      }
      return bySubject;
    })();
    return (await this.subjects).get(subject.digest) ?? [];
  }

  blobFile(desc: Descriptor): BlobFile | undefined {
    const at = this.tree.locate(blobPath(desc.digest));
    return at?.size === desc.size ? at : undefined;
  }

  blob(desc: Descriptor, offset = 0): ReadableStream<Uint8Array> {
    const p = blobPath(desc.digest);
    const size = this.tree.size(p);
    if (size === undefined) throw new ImgxError("BLOB_UNKNOWN", `Cannot read blob ${q(desc.digest)}: ${p} is missing from ${q(this.tree.label)}`);
    if (size !== desc.size) throw new ImgxError("SIZE_MISMATCH", `Cannot read blob ${q(desc.digest)} in ${q(this.tree.label)}: file has ${size} bytes, its descriptor says ${desc.size}`);
    return this.tree.stream(p, offset);
  }
}
