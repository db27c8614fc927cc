import { ImgxError, q } from "../../core/errors.ts";
import type { Descriptor } from "../../core/manifest.ts";
import { blobPath } from "../../storage/oci-layout-reader.ts";
import { IndexEntries, OCI_LAYOUT_BYTES } from "../../storage/oci-index-writer.ts";
import { TarFileWriter } from "../../storage/tar-writer.ts";
import type { BlobInput, ImageSink, SinkCaps } from "../types.ts";

/** Streams an OCI layout into a tar: oci-layout first, blobs as they come, index.json last. */
export class OciArchiveSink implements ImageSink {
  readonly caps: SinkCaps = { maxConcurrentWrites: 1, acceptsIndex: true, needsKnownSize: true, family: "oci", multiImage: true };
  private readonly tar: TarFileWriter;
  private readonly written = new Set<string>();
  private readonly index = new IndexEntries();

  constructor(readonly path: string) {
    this.tar = new TarFileWriter(path);
    void this.tar.add("oci-layout", OCI_LAYOUT_BYTES.length, OCI_LAYOUT_BYTES).catch(() => {});
  }

  get label(): string {
    return `oci-archive:${this.path}`;
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.written.has(desc.digest);
  }

  async putBlob(blob: BlobInput): Promise<void> {
    if (!blob.digest || blob.size === undefined) throw new ImgxError("IO", `Cannot write to ${q(this.path)}: a tar entry needs the blob's digest and size first`);
    if (this.written.has(blob.digest)) {
      await blob.stream.cancel();
      return;
    }
    await this.tar.add(blobPath(blob.digest), blob.size, blob.stream);
    this.written.add(blob.digest);
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, names: string[], top: boolean): Promise<void> {
    if (!this.written.has(desc.digest)) {
      await this.tar.add(blobPath(desc.digest), bytes.length, bytes);
      this.written.add(desc.digest);
    }
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
