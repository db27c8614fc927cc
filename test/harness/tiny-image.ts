// A tiny OCI image built by hand (one gzip layer, config, manifest), both as bytes for driving a
// sink directly and as an OCI layout directory skopeo can read. No fixture tool involved, so a
// harness failure can't be a fixture bug.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Blob {
  mediaType: string;
  digest: `sha256:${string}`;
  size: number;
  bytes: Uint8Array;
}

export const sha256 = (b: Uint8Array | string): `sha256:${string}` => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

export function blobOf(mediaType: string, bytes: Uint8Array): Blob {
  return { mediaType, digest: sha256(bytes), size: bytes.byteLength, bytes };
}

/** A minimal ustar archive holding one file, so the layer is a real (if tiny) filesystem diff. */
function tarOf(name: string, content: Uint8Array): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(512);
  const put = (s: string, off: number) => h.set(new TextEncoder().encode(s), off);
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0") + "\0";
  put(name, 0);
  put(oct(0o644, 8), 100);
  put(oct(0, 8), 108);
  put(oct(0, 8), 116);
  put(oct(content.length, 12), 124);
  put(oct(0, 12), 136);
  put("        ", 148);
  put("0", 156);
  put("ustar\u000000", 257);
  let sum = 0;
  for (const b of h) sum += b;
  put(oct(sum, 7) + " ", 148);
  const body = new Uint8Array(Math.ceil(content.length / 512) * 512);
  body.set(content);
  const out = new Uint8Array(512 + body.length + 1024);
  out.set(h);
  out.set(body, 512);
  return out;
}

export interface TinyImage {
  layer: Blob;
  config: Blob;
  manifest: Blob;
  blobs: Blob[];
}

/** `layerBytes` lets a test make the layer as big as it needs (gzip of random bytes stays that big). */
export function tinyImage(opts: { seed?: string; layerBytes?: number } = {}): TinyImage {
  const payload = opts.layerBytes ? crypto.getRandomValues(new Uint8Array(opts.layerBytes)) : new TextEncoder().encode(`hello from imgx ${opts.seed ?? ""}\n`);
  const tar = tarOf("hello.txt", payload);
  // level 0 keeps big random layers fast to make; still a valid gzip member
  const layer = blobOf("application/vnd.oci.image.layer.v1.tar+gzip", Bun.gzipSync(tar, { level: opts.layerBytes ? 0 : 6 }));
  const cfg = { architecture: "amd64", os: "linux", config: { Labels: { seed: opts.seed ?? "" } }, rootfs: { type: "layers", diff_ids: [sha256(tar)] } };
  return imageOf(layer, cfg);
}

/** A one-layer OCI image around `layer` with `cfg` as its config (a test may make them disagree). */
export function imageOf(layer: Blob, cfg: object): TinyImage {
  const config = blobOf("application/vnd.oci.image.config.v1+json", new TextEncoder().encode(JSON.stringify(cfg)));
  const man = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  const manifest = blobOf(man.mediaType, new TextEncoder().encode(JSON.stringify(man)));
  return { layer, config, manifest, blobs: [layer, config] };
}

/** Writes the image as an OCI layout with `tag` in index.json (org.opencontainers.image.ref.name). */
export function writeOciLayout(dir: string, img: TinyImage, tag: string): void {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  for (const b of [...img.blobs, img.manifest]) writeFileSync(join(dir, "blobs", "sha256", b.digest.slice(7)), b.bytes);
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: img.manifest.mediaType, digest: img.manifest.digest, size: img.manifest.size, annotations: { "org.opencontainers.image.ref.name": tag } }],
  };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index));
}
