import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Digest } from "../core/digest.ts";
import { DirTree } from "../storage/file-tree.ts";
import { REF_NAME } from "../storage/layout-names.ts";
import { OciLayoutReader } from "../storage/oci-layout-reader.ts";
import { openOciLayoutBundle, openOciLayoutSource } from "../transports/oci-layout/index.ts";
import type { ImageSink, ImageSource, SourceImage } from "../transports/types.ts";

/** A bundle read as a sync source: index.json once, then one ImageSource per image over the same reader. */
export async function openBundleSource(path: string): Promise<{ all: ImageSource; one(image: SourceImage): ImageSource }> {
  const all = await openOciLayoutSource(path);
  return { all, one: (image) => ({ ...all, label: `${all.label}:${image.descriptor.annotations?.[REF_NAME] ?? image.descriptor.digest}`, images: async () => [image] }) };
}

/**
 * A bundle being written by many copies at once: one in-place layout sink (one lock), names
 * stored verbatim as ref.name. Each copy gets a view whose commit records its image in index.json
 * (flushes never overlap) and whose abort leaves the bundle alone: a failed image costs itself only,
 * and after a kill the finished images are listed and the blobs on disk are reused.
 */
export class BundleWriter {
  /** ref.name → digest of what the bundle held when the sync started (its incremental check). */
  readonly names = new Map<string, Digest>();
  private flushing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(private readonly sink: ImageSink & { flush(): Promise<void> }) {}

  static async open(path: string, dryRun: boolean): Promise<BundleWriter | { names: Map<string, Digest> }> {
    const names = new Map<string, Digest>();
    if (existsSync(join(path, "index.json"))) {
      const reader = await OciLayoutReader.open(new DirTree(path));
      for (const d of reader.index.manifests) {
        const n = d.annotations?.[REF_NAME];
        if (n) names.set(n, d.digest);
      }
    }
    if (dryRun) return { names };
    const w = new BundleWriter(await openOciLayoutBundle(path));
    for (const [k, v] of names) w.names.set(k, v);
    return w;
  }

  view(): ImageSink {
    const s = this.sink;
    return {
      label: s.label,
      caps: s.caps,
      hasBlob: (d) => s.hasBlob(d),
      partialBlob: s.partialBlob?.bind(s),
      fileTarget: s.fileTarget?.bind(s),
      putBlob: (b) => s.putBlob(b),
      putManifest: (d, bytes, names, top) => s.putManifest(d, bytes, names, top),
      commit: () => this.flush(),
      abort: async () => {},
    };
  }

  /** Writes index.json after the flush in progress, once for all images finished meanwhile. */
  private flush(): Promise<void> {
    this.dirty = true;
    this.flushing = this.flushing.catch(() => {}).then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      await this.sink.flush();
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flushing.catch(() => {});
    await this.sink.commit();
  }

  abort(cause?: unknown): Promise<void> {
    return this.sink.abort(cause);
  }
}
