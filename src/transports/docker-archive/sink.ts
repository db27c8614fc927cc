import type { ImageName } from "../../core/reference.ts";
import { digestHex } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { encodeJson } from "../../core/json.ts";
import { parseManifestBytes, type Descriptor } from "../../core/manifest.ts";
import { familiarName } from "../../core/reference.ts";
import { blobPath } from "../../storage/layout-names.ts";
import { IndexEntries, OCI_LAYOUT_BYTES } from "../../storage/oci-index-writer.ts";
import { TarBlobStore, TarFileWriter } from "../../storage/tar-writer.ts";
import type { BlobInput, ImageSink, SinkCaps } from "../types.ts";

interface SavedImage {
  digest: string;
  config: string;
  layers: string[];
  repoTags: string[];
}

/**
 * Writes a docker-save tarball in Docker 25+'s shape (blobs/sha256/…, manifest.json, repositories,
 * oci-layout, index.json), which `docker load`, `podman load` and `ctr import` all read. Layers are
 * uncompressed (the pipeline decompresses), so each layer's digest is its diff_id.
 */
export class DockerArchiveSink implements ImageSink {
  readonly caps: SinkCaps = { maxConcurrentWrites: 1, acceptsIndex: false, needsKnownSize: true, family: "docker", layerCompression: "none", multiImage: true, needsImageConfig: true };
  private readonly tar: TarFileWriter;
  private readonly blobs: TarBlobStore;
  private readonly images: SavedImage[] = [];
  private readonly index = new IndexEntries([], "tag");

  constructor(readonly path: string) {
    this.tar = new TarFileWriter(path);
    this.blobs = new TarBlobStore(this.tar);
  }

  get label(): string {
    return `docker-archive:${this.path}`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async putBlob(blob: BlobInput): Promise<void> {
    await this.blobs.put(blob.digest, blob.size, blob.stream);
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, names: readonly ImageName[], top: boolean): Promise<void> {
    const parsed = parseManifestBytes(bytes, `manifest ${desc.digest}`, desc.mediaType, "descriptor");
    if (parsed.kind === "index")
      throw new ImgxError("UNSUPPORTED", `Cannot write an index to ${q(this.path)}: docker-archive holds one image per name`, { hint: "choose one --platform" });
    await this.blobs.put(desc.digest, bytes.length, bytes);
    if (!top) return;
    const repoTags = names.map(repoTag).filter((t): t is string => t !== undefined);
    // A name moves to the newest image carrying it, as docker load would retag.
    for (const img of this.images) img.repoTags = img.repoTags.filter((t) => !repoTags.includes(t));
    // The same image under several names is one manifest.json entry with several RepoTags, as docker save writes it.
    const same = this.images.find((i) => i.digest === desc.digest);
    if (same) same.repoTags.push(...repoTags);
    else this.images.push({ digest: desc.digest, config: blobPath(parsed.manifest.config.digest), layers: parsed.manifest.layers.map((l) => blobPath(l.digest)), repoTags });
    this.index.add(desc, names.filter((n) => repoTag(n) !== undefined));
  }

  async commit(): Promise<void> {
    const manifest = encodeJson(this.images.map((i) => ({ Config: i.config, RepoTags: i.repoTags.length ? i.repoTags : null, Layers: i.layers })));
    const repos: Record<string, Record<string, string>> = {};
    for (const img of this.images) {
      const top = img.layers.at(-1);
      if (!top) continue;
      for (const t of img.repoTags) {
        const i = t.lastIndexOf(":");
        (repos[t.slice(0, i)] ??= {})[t.slice(i + 1)] = digestHex(`sha256:${top.split("/").pop()}`);
      }
    }
    const files: [string, Uint8Array][] = [
      ["manifest.json", manifest],
      ["repositories", encodeJson(repos)],
      ["oci-layout", OCI_LAYOUT_BYTES],
      ["index.json", this.index.bytes()],
    ];
    for (const [n, b] of files) await this.tar.add(n, b.length, b);
    await this.tar.commit();
  }

  async abort(): Promise<void> {
    await this.tar.abort();
  }
}

/** `repo:tag` in the familiar form docker writes; a bare tag has no repository and can't be a RepoTag. */
function repoTag(name: ImageName): string | undefined {
  return name.ref ? familiarName(name.ref) : undefined;
}
