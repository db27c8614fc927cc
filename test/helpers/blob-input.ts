import { sha256Bytes, type Digest } from "../../src/core/digest.ts";
import { encodeJson } from "../../src/core/json.ts";
import type { Descriptor } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { verifyStream } from "../../src/copy/streams.ts";
import type { BlobInput, ImageSink } from "../../src/transports/types.ts";

/** A BlobInput as the pipeline makes it: bytes through the verify stream, which errors on a lie. */
export function blobInput(bytes: Uint8Array, opts: { mediaType?: string; claim?: Digest; unknownDigest?: boolean } = {}): BlobInput {
  const digest = opts.claim ?? sha256Bytes(bytes);
  const v = verifyStream({ digest, size: bytes.length }, `blob ${digest}`);
  return {
    mediaType: opts.mediaType ?? MT.ociLayer,
    digest: opts.unknownDigest ? undefined : digest,
    size: bytes.length,
    stream: new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(v.stream),
    result: v.result,
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
  await sink.putManifest(img.desc, img.manifest, names, true);
}
