import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { DigestCounter, sha256Bytes, type Digest } from "../../src/core/digest.ts";
import { parseManifestBytes, type Descriptor } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { copyImages } from "../../src/copy/pipeline.ts";
import type { CopyEvent } from "../../src/copy/events.ts";
import type { BlobInput, ImageSink, ImageSource, SinkCaps } from "../../src/transports/types.ts";

// In-memory endpoints: they exercise the pipeline's logic only; real transports are tested elsewhere.
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

function memSource(blobs: Map<string, Uint8Array>, top: Descriptor): ImageSource {
  return {
    label: "mem-src",
    images: async () => [{ descriptor: top, names: ["app:1"] }],
    manifest: async (d) => {
      const bytes = blobs.get(d.digest)!;
      return { descriptor: d, bytes, parsed: parseManifestBytes(bytes, d.digest, d.mediaType) };
    },
    blob: async (d) => new Blob([blobs.get(d.digest)! as Uint8Array<ArrayBuffer>]).stream(),
    blobFrom: async (d, offset) => ({ stream: new Blob([blobs.get(d.digest)!.subarray(offset) as Uint8Array<ArrayBuffer>]).stream() }),
    close: async () => {},
  };
}

function memSink(caps: Partial<SinkCaps> = {}) {
  const blobs = new Map<string, Uint8Array>();
  const manifests: { desc: Descriptor; bytes: Uint8Array; names: string[]; top: boolean }[] = [];
  let committed = false;
  let aborted = false;
  const sink: ImageSink = {
    label: "mem-sink",
    caps: { maxConcurrentWrites: 4, acceptsIndex: true, needsKnownSize: false, multiImage: true, ...caps },
    hasBlob: async (d) => blobs.has(d.digest),
    putBlob: async (b: BlobInput) => {
      const bytes = new Uint8Array(await new Response(b.stream).arrayBuffer());
      blobs.set(b.result().digest, bytes);
    },
    putManifest: async (desc, bytes, names, top) => void manifests.push({ desc, bytes, names: names.map((n) => n.given), top }),
    commit: async () => void (committed = true),
    abort: async () => void (aborted = true),
  };
  return { sink, blobs, manifests, state: () => ({ committed, aborted }) };
}

function image(layerPlain: Uint8Array, opts: { gzip: boolean; arch?: string }) {
  const blobs = new Map<string, Uint8Array>();
  const layer = opts.gzip ? gzipSync(layerPlain) : layerPlain;
  const config = enc({ os: "linux", architecture: opts.arch ?? "amd64", rootfs: { type: "layers", diff_ids: [sha256Bytes(layerPlain)] } });
  blobs.set(sha256Bytes(layer), layer);
  blobs.set(sha256Bytes(config), config);
  const manifest = enc({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: sha256Bytes(config), size: config.length },
    layers: [{ mediaType: opts.gzip ? MT.ociLayerGzip : MT.ociLayer, digest: sha256Bytes(layer), size: layer.length }],
  });
  blobs.set(sha256Bytes(manifest), manifest);
  return { blobs, desc: { mediaType: MT.ociManifest, digest: sha256Bytes(manifest), size: manifest.length } as Descriptor, layerDigest: sha256Bytes(layer) };
}

const plain = new TextEncoder().encode("layer-bytes ".repeat(1000));

describe("copy pipeline", () => {
  test("unchanged copy keeps manifest bytes exactly", async () => {
    const img = image(plain, { gzip: true });
    const m = memSink();
    const r = await copyImages(memSource(img.blobs, img.desc), m.sink, { platforms: { all: false, platforms: [] } });
    expect(r.images[0]!.digest).toBe(img.desc.digest);
    expect(m.manifests[0]!.bytes).toEqual(img.blobs.get(img.desc.digest)!);
    expect(m.manifests[0]!.names).toEqual(["app:1"]);
    expect(m.state().committed).toBe(true);
  });

  test("decompressing for a docker-archive-like sink writes diff_id-named layers and a docker manifest", async () => {
    const img = image(plain, { gzip: true });
    const m = memSink({ family: "docker", layerCompression: "none", needsKnownSize: true, maxConcurrentWrites: 1 });
    await copyImages(memSource(img.blobs, img.desc), m.sink, { platforms: { all: false, platforms: [] } });
    expect(m.blobs.get(sha256Bytes(plain))).toEqual(plain);
    const out = JSON.parse(new TextDecoder().decode(m.manifests[0]!.bytes));
    expect(out.mediaType).toBe(MT.dockerManifest);
    expect(out.config.mediaType).toBe(MT.dockerConfig);
    expect(out.layers[0]).toEqual({ mediaType: MT.dockerLayer, digest: sha256Bytes(plain), size: plain.length });
  });

  test("compressing uncompressed layers (push default) records the compressed digest", async () => {
    const img = image(plain, { gzip: false });
    const m = memSink();
    const events: CopyEvent[] = [];
    await copyImages(memSource(img.blobs, img.desc), m.sink, { platforms: { all: false, platforms: [] }, compressUncompressed: "gzip", onEvent: (e) => events.push(e) });
    const out = JSON.parse(new TextDecoder().decode(m.manifests[0]!.bytes));
    expect(out.layers[0].mediaType).toBe(MT.ociLayerGzip);
    const stored = m.blobs.get(out.layers[0].digest)!;
    expect(sha256Bytes(stored)).toBe(out.layers[0].digest);
    expect(out.layers[0].size).toBe(stored.length);
    expect(events.at(-1)!.type).toBe("summary");
  });

  test("a corrupt blob aborts the sink and names the digest", async () => {
    const img = image(plain, { gzip: true });
    img.blobs.set(img.layerDigest, gzipSync(new TextEncoder().encode("tampered")));
    const m = memSink();
    const err = await copyImages(memSource(img.blobs, img.desc), m.sink, { platforms: { all: false, platforms: [] } }).catch((e) => e);
    expect(isImgxError(err)).toBe(true);
    expect(["DIGEST_MISMATCH", "SIZE_MISMATCH"]).toContain(err.code);
    expect(err.message).toContain(img.layerDigest);
    expect(m.manifests.length).toBe(0);
    expect(m.state()).toEqual({ committed: false, aborted: true });
  });

  test("platform selection from an index, and the error listing platforms", async () => {
    const a = image(plain, { gzip: true, arch: "amd64" });
    const b = image(new TextEncoder().encode("arm"), { gzip: true, arch: "arm64" });
    const blobs = new Map([...a.blobs, ...b.blobs]);
    const index = enc({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [
        { ...a.desc, platform: { os: "linux", architecture: "amd64" } },
        { ...b.desc, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      ],
    });
    blobs.set(sha256Bytes(index), index);
    const top = { mediaType: MT.ociIndex, digest: sha256Bytes(index) as Digest, size: index.length };
    const m = memSink();
    const r = await copyImages(memSource(blobs, top), m.sink, { platforms: { all: false, platforms: [{ os: "linux", architecture: "arm64" }] } });
    expect(r.images[0]!.digest).toBe(b.desc.digest);
    const err = await copyImages(memSource(blobs, top), memSink().sink, { platforms: { all: false, platforms: [{ os: "linux", architecture: "s390x" }] } }).catch((e) => e);
    expect(err.code).toBe("PLATFORM_NOT_FOUND");
    expect(err.message).toContain("linux/amd64, linux/arm64/v8");
    const all = memSink();
    const r2 = await copyImages(memSource(blobs, top), all.sink, { platforms: { all: true } });
    expect(r2.images[0]!.digest).toBe(top.digest);
    expect(all.manifests.length).toBe(3);
    expect(all.manifests.map((x) => x.top)).toEqual([false, false, true]);
    const noIndex = await copyImages(memSource(blobs, top), memSink({ acceptsIndex: false }).sink, { platforms: { all: true } }).catch((e) => e);
    expect(noIndex.code).toBe("UNSUPPORTED");
  });

  test("resumes a blob from the sink's partial bytes and reads only the rest", async () => {
    const img = image(plain, { gzip: true });
    const layer = img.blobs.get(img.layerDigest)!;
    const half = Math.floor(layer.length / 2);
    const m = memSink();
    const partial = layer.subarray(0, half);
    let served = 0;
    const src = memSource(img.blobs, img.desc);
    const [origBlob, origFrom] = [src.blob, src.blobFrom];
    src.blob = async (d) => {
      if (d.digest === img.layerDigest) served += d.size;
      return origBlob(d);
    };
    src.blobFrom = async (d, offset) => {
      if (d.digest === img.layerDigest) served += d.size - offset;
      return origFrom(d, offset);
    };
    m.sink.partialBlob = async (d) => {
      if (d.digest !== img.layerDigest) return undefined;
      const hashed = new DigestCounter();
      hashed.update(partial);
      return { offset: half, hashed };
    };
    const put = m.sink.putBlob;
    m.sink.putBlob = async (b) => {
      if (b.offset) {
        const rest = new Uint8Array(await new Response(b.stream).arrayBuffer());
        const whole = new Uint8Array(half + rest.length);
        whole.set(partial);
        whole.set(rest, half);
        m.blobs.set(b.result().digest, whole);
        return;
      }
      return put(b);
    };
    await copyImages(src, m.sink, { platforms: { all: false, platforms: [] } });
    expect(served).toBe(layer.length - half);
    expect(m.blobs.get(img.layerDigest)).toEqual(layer);
  });
});
