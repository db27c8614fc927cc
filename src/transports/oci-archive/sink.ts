import type { Descriptor } from "../../core/manifest.ts";
import { IndexEntries, OCI_LAYOUT_BYTES } from "../../storage/oci-index-writer.ts";
import { TarBlobStore, TarFileWriter } from "../../storage/tar-writer.ts";
import type { BlobInput, ImageSink, SinkCaps } from "../types.ts";
import type { ImageName } from "../../core/reference.ts";

/** Streams an OCI layout into a tar: oci-layout first, blobs as they come, index.json last. */
export class OciArchiveSink implements ImageSink {
  readonly caps: SinkCaps = { maxConcurrentWrites: 1, acceptsIndex: true, needsKnownSize: true, family: "oci", multiImage: true, referrers: true };
  private readonly tar: TarFileWriter;
  private readonly blobs: TarBlobStore;
  private readonly index = new IndexEntries();

  constructor(readonly path: string) {
    this.tar = new TarFileWriter(path);
    this.blobs = new TarBlobStore(this.tar);
    void this.tar.add("oci-layout", OCI_LAYOUT_BYTES.length, OCI_LAYOUT_BYTES).catch(() => {});
  }

  get label(): string {
    return `oci-archive:${this.path}`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.blobs.has(desc.digest);
  }

  async putBlob(blob: BlobInput): Promise<void> {
    await this.blobs.put(blob.digest, blob.size, blob.stream);
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, names: readonly ImageName[], top: boolean): Promise<void> {
    await this.blobs.put(desc.digest, bytes.length, bytes);
    if (top) this.index.add(desc, names);
  }

  async commit(): Promise<void> {
    const idx = this.index.bytes();
    await this.tar.add("index.json", idx.length, idx);
    await this.tar.commit();
  }

  async abort(): Promise<void> {
    await this.tar.abort();
  }
}
