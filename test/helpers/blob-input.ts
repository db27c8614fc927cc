import { sha256Bytes, type Digest } from "../../src/core/digest.ts";
import { encodeJson } from "../../src/core/json.ts";
import type { Descriptor } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { verifyStream } from "../../src/copy/streams.ts";
import type { BlobInput, ImageSink } from "../../src/transports/types.ts";
import { parseImageName } from "../../src/core/reference.ts";

export interface BlobInputOptions {
  mediaType?: string;
  /** Declare this digest instead of the true one: the stream errors with DIGEST_MISMATCH at its end. */
  claim?: Digest;
  /** Digest and size unknown up front (a layer recompressed on the way); checked only against `claim`. */
  unknownDigest?: boolean;
  /** Size of the pieces the stream delivers. */
  piece?: number;
  /**
   * Wait this long between the last byte and the end of the stream, as a network source may: a
   * sink must still read the stream to its end (else result() never becomes valid).
   */
  endDelayMs?: number;
}

/**
 * A BlobInput as the pipeline makes it: the bytes in pieces through the real verify stream, whose
 * result() is valid only after a clean end and which errors at the end on a lie. `ended` tells
 * whether the sink read it to its end, `cancelled` whether the sink gave it up (a failed upload
 * must release its source).
 */
export function blobInput(bytes: Uint8Array, o: BlobInputOptions = {}): BlobInput & { ended: () => boolean; cancelled: () => boolean } {
  const truth = sha256Bytes(bytes);
  const claim = o.claim ?? (o.unknownDigest ? undefined : truth);
  const v = verifyStream({ digest: claim, size: o.unknownDigest ? undefined : bytes.length }, `test blob ${claim ?? truth}`);
  const piece = o.piece ?? 64 * 1024;
  let off = 0;
  let cancelled = false;
  const source = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
    async pull(c) {
      if (off >= bytes.length) {
        if (o.endDelayMs) await Bun.sleep(o.endDelayMs);
        return c.close();
      }
      c.enqueue(bytes.slice(off, off + piece));
      off += piece;
    },
  });
  return {
    mediaType: o.mediaType ?? MT.ociLayer,
    digest: o.unknownDigest ? undefined : claim,
    size: o.unknownDigest ? undefined : bytes.length,
    stream: source.pipeThrough(v.stream),
    result: v.result,
    ended: () => {
      try {
        v.result();
        return true;
      } catch {
        return false;
      }
    },
    cancelled: () => cancelled,
  };
}

export interface TestImage {
  config: Uint8Array;
  layers: Uint8Array[];
  manifest: Uint8Array;
  desc: Descriptor;
}

/** A tiny image in the requested family with uncompressed layers (diff_id = digest). */
export function testImage(seed: string, family: "oci" | "docker" = "oci", platform = { os: "linux", architecture: "amd64" }): TestImage {
  const layers = [new TextEncoder().encode(`layer-a-${seed}`.padEnd(1024, "a")), new TextEncoder().encode(`layer-b-${seed}`.padEnd(2048, "b"))];
  const config = encodeJson({ ...platform, rootfs: { type: "layers", diff_ids: layers.map((l) => sha256Bytes(l)) } });
  const oci = family === "oci";
  const manifest = encodeJson({
    schemaVersion: 2,
    mediaType: oci ? MT.ociManifest : MT.dockerManifest,
    config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, digest: sha256Bytes(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: oci ? MT.ociLayer : MT.dockerLayer, digest: sha256Bytes(l), size: l.length })),
  });
  return { config, layers, manifest, desc: { mediaType: oci ? MT.ociManifest : MT.dockerManifest, digest: sha256Bytes(manifest), size: manifest.length, platform } };
}

/** Writes an image through a sink the way the pipeline does: blobs first, then the manifest. */
export async function putImage(sink: ImageSink, img: TestImage, names: string[]): Promise<void> {
  for (const b of [img.config, ...img.layers]) if (!(await sink.hasBlob({ mediaType: "x", digest: sha256Bytes(b), size: b.length }))) await sink.putBlob(blobInput(b));
  await sink.putManifest(img.desc, img.manifest, (names).map(parseImageName), true);
}
