import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { packTar } from "modern-tar";
import { generateAll, imageConfig, layerTar } from "../../fixtures/generate.ts";
import { DigestCounter, sha256Bytes } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { MT } from "../../src/core/media-types.ts";
import { openDockerArchiveSource } from "../../src/transports/docker-archive/index.ts";
import type { ImageSource } from "../../src/transports/types.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-dasrc-");
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
beforeAll(() => generateAll(fx));
afterAll(t.cleanup);

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const hex = (d: string) => d.slice(7);
type E = { name: string; body?: Uint8Array; type?: "file" | "symlink"; linkname?: string };
async function tar(name: string, entries: E[]): Promise<string> {
  writeFileSync(p(name), await packTar(entries.map((e) => ({ header: { name: e.name, size: e.body?.length ?? 0, type: e.type ?? "file", linkname: e.linkname, mtime: new Date(0) }, body: e.body }))));
  return p(name);
}
async function hashOf(s: ReadableStream<Uint8Array>): Promise<{ digest: string; size: number }> {
  const h = new DigestCounter();
  for await (const c of s) h.update(c);
  return { digest: h.digest(), size: h.size };
}
async function rejects(pr: Promise<unknown>, code: string, text: string): Promise<void> {
  const e = await pr.then(() => undefined, (x) => x);
  expect(isImgxError(e, code as never)).toBe(true);
  expect((e as Error).message).toContain(text);
}
/** Every layer and the config stream back with the digest and size the synthesised manifest names. */
async function checkBlobs(src: ImageSource): Promise<void> {
  for (const img of await src.images()) {
    const m = await src.manifest(img.descriptor);
    expect(sha256Bytes(m.bytes)).toBe(img.descriptor.digest);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    for (const d of [m.parsed.manifest.config, ...m.parsed.manifest.layers]) expect(await hashOf(await src.blob(d))).toEqual({ digest: d.digest, size: d.size });
  }
}

describe("docker-archive source", () => {
  test("legacy save: a deterministic schema2 manifest, layers named by diff_id, ranged blobs", async () => {
    const src = await openDockerArchiveSource(join(fx, "legacy-save.tar"));
    const [img, ...rest] = await src.images();
    expect(rest).toEqual([]);
    expect(img!.names).toEqual(["imgx-demo/app:1.0"]);
    expect(img!.descriptor.platform).toEqual({ os: "linux", architecture: "amd64" });
    const m = await src.manifest(img!.descriptor);
    const text = new TextDecoder().decode(m.bytes);
    expect(text).toMatch(/^\{"schemaVersion":2,"mediaType":"application\/vnd\.docker\.distribution\.manifest\.v2\+json","config":\{"mediaType":"[^"]+","size":\d+,"digest":"sha256:[a-f0-9]{64}"\},"layers":\[/);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    const layers = m.parsed.manifest.layers;
    expect(layers.map((l) => l.mediaType)).toEqual([MT.dockerLayer, MT.dockerLayer, MT.dockerLayer]);
    const config = JSON.parse(new TextDecoder().decode(new Uint8Array(await new Response(await src.blob(m.parsed.manifest.config)).arrayBuffer())));
    expect(layers.map((l) => l.digest)).toEqual(config.rootfs.diff_ids);
    await checkBlobs(src);
    const whole = new Uint8Array(await new Response(await src.blob(layers[0]!)).arrayBuffer());
    const tail = new Uint8Array(await new Response((await src.blobFrom(layers[0]!, 1000) as { stream: ReadableStream }).stream).arrayBuffer());
    expect(tail).toEqual(whole.subarray(1000));
    // the same archive gives the same bytes every time
    const again = await openDockerArchiveSource(join(fx, "legacy-save.tar"));
    expect((await again.images())[0]!.descriptor.digest).toBe(img!.descriptor.digest);
  });

  test("Docker 25+: blobs/sha256 paths name the layers; manifest.json wins over a disagreeing index.json", async () => {
    const layers = await Promise.all([31, 32].map((s) => layerTar(s, `x${s}`)));
    const diffIds = layers.map((l) => sha256Bytes(l));
    const config = imageConfig(diffIds, { os: "linux", architecture: "arm64", variant: "v8" }, "d25");
    const blob = (b: Uint8Array) => `blobs/sha256/${hex(sha256Bytes(b))}`;
    const bogus = "sha256:" + "0".repeat(64);
    const path = await tar("d25-disagree.tar", [
      { name: "oci-layout", body: enc({ imageLayoutVersion: "1.0.0" }) },
      { name: "index.json", body: enc({ schemaVersion: 2, manifests: [{ mediaType: MT.ociManifest, digest: bogus, size: 10 }] }) },
      ...layers.map((l) => ({ name: blob(l), body: l })),
      { name: blob(config), body: config },
      { name: "manifest.json", body: enc([{ Config: blob(config), RepoTags: ["d25/app:1"], Layers: layers.map(blob), LayerSources: {} }]) },
    ]);
    const src = await openDockerArchiveSource(path);
    const [img] = await src.images();
    expect(img!.names).toEqual(["d25/app:1"]);
    expect(img!.descriptor.platform).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
    await checkBlobs(src);
    const d25 = await openDockerArchiveSource(join(fx, "docker25-save.tar"));
    expect((await d25.images())[0]!.names).toEqual(["imgx-demo/app25:1.0"]);
    await checkBlobs(d25);
  });

  test("skopeo's shape: top-level <diffid>.tar with <id>/layer.tar symlinks", async () => {
    const layers = await Promise.all([41, 42].map((s) => layerTar(s, `s${s}`)));
    const config = imageConfig(layers.map((l) => sha256Bytes(l)), { os: "linux", architecture: "amd64" }, "sk");
    const top = (l: Uint8Array) => `${hex(sha256Bytes(l))}.tar`;
    const entries: E[] = [
      ...layers.flatMap((l, i) => [
        { name: top(l), body: l },
        { name: `id${i}/layer.tar`, type: "symlink" as const, linkname: `../${top(l)}` },
      ]),
      { name: `${hex(sha256Bytes(config))}.json`, body: config },
    ];
    for (const [n, paths] of [["sk-top", layers.map(top)], ["sk-links", ["id0/layer.tar", "id1/layer.tar"]]] as const) {
      const path = await tar(`${n}.tar`, [...entries, { name: "manifest.json", body: enc([{ Config: `${hex(sha256Bytes(config))}.json`, RepoTags: ["docker.io/library/sk:latest"], Layers: paths }]) }]);
      const src = await openDockerArchiveSource(path);
      expect((await src.images())[0]!.names).toEqual(["docker.io/library/sk:latest"]);
      await checkBlobs(src);
    }
  });

  test("compressed layers in a legacy layout are sniffed by magic bytes and hashed up front", async () => {
    const plain = await Promise.all([51, 52].map((s) => layerTar(s, `c${s}`)));
    const gz = new Uint8Array(gzipSync(plain[0]!));
    const zst = Bun.zstdCompressSync(plain[1]!);
    const config = imageConfig(plain.map((l) => sha256Bytes(l)), { os: "linux", architecture: "amd64" }, "c");
    const path = await tar("compressed.tar", [
      { name: "a/layer.tar", body: gz },
      { name: "b/layer.tar", body: zst },
      { name: "c.json", body: config },
      { name: "manifest.json", body: enc([{ Config: "c.json", RepoTags: null, Layers: ["a/layer.tar", "b/layer.tar"] }]) },
    ]);
    const src = await openDockerArchiveSource(path);
    const [img] = await src.images();
    expect(img!.names).toEqual([]);
    const m = await src.manifest(img!.descriptor);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(m.parsed.manifest.layers.map((l) => [l.mediaType, l.digest])).toEqual([
      [MT.dockerLayerGzip, sha256Bytes(gz)],
      [MT.ociLayerZstd, sha256Bytes(zst)],
    ]);
    await checkBlobs(src);
  });

  test("several images and tags: one image per entry, selection by tag (normalised) or @N", async () => {
    const path = join(fx, "multi-save.tar");
    const all = await (await openDockerArchiveSource(path)).images();
    expect(all.map((i) => i.names)).toEqual([["multi/a:1", "multi/a:latest"], ["multi/b:2"]]);
    const byTag = await (await openDockerArchiveSource(path, "docker.io/multi/b:2")).images();
    expect(byTag.map((i) => i.descriptor.digest)).toEqual([all[1]!.descriptor.digest]);
    const byDigest = await (await openDockerArchiveSource(path, `@${all[1]!.descriptor.digest}`)).images();
    expect(byDigest.map((i) => i.descriptor.digest)).toEqual([all[1]!.descriptor.digest]);
    const byIndex = await (await openDockerArchiveSource(path, "@1")).images();
    expect(byIndex[0]!.descriptor.digest).toBe(all[1]!.descriptor.digest);
    await rejects((await openDockerArchiveSource(path, "multi/c:1")).images(), "NOT_FOUND", "tags present: multi/a:1, multi/a:latest, multi/b:2");
    await rejects((await openDockerArchiveSource(path, "@2")).images(), "NOT_FOUND", "holds 2 images");
    await checkBlobs(await openDockerArchiveSource(path));
  });

  test("gzip- and zstd-compressed tarballs (docker save | gzip) are decompressed to a spool removed at close", async () => {
    const raw = await Bun.file(join(fx, "legacy-save.tar")).bytes();
    const want = (await (await openDockerArchiveSource(join(fx, "legacy-save.tar"))).images())[0]!.descriptor.digest;
    const spools = () => readdirSync(tmpdir()).filter((f) => f.startsWith("imgx-spool-")).length;
    const before = spools();
    for (const [n, bytes] of [["save.tar.gz", gzipSync(raw)], ["save.tar.zst", Bun.zstdCompressSync(raw)]] as const) {
      writeFileSync(p(n), bytes);
      const src = await openDockerArchiveSource(p(n));
      expect(spools()).toBe(before + 1);
      expect((await src.images())[0]!.descriptor.digest).toBe(want);
      await checkBlobs(src);
      await src.close();
      expect(spools()).toBe(before);
    }
    writeFileSync(p("cut.tar.gz"), gzipSync(raw).subarray(0, 2000));
    await rejects(openDockerArchiveSource(p("cut.tar.gz")), "BAD_ARCHIVE", "corrupt gzip data");
    expect(spools()).toBe(before);
  });

  test("refuses a config whose diff_ids do not match the layers, and unknown blobs", async () => {
    const l = await layerTar(61, "m");
    const config = imageConfig([sha256Bytes(l), sha256Bytes(l)], { os: "linux", architecture: "amd64" }, "m");
    const path = await tar("count.tar", [
      { name: "l/layer.tar", body: l },
      { name: "c.json", body: config },
      { name: "manifest.json", body: enc([{ Config: "c.json", RepoTags: ["m:1"], Layers: ["l/layer.tar"] }]) },
    ]);
    await rejects(openDockerArchiveSource(path), "BAD_ARCHIVE", "lists 1 layers but its config has 2 diff_ids");
    const src = await openDockerArchiveSource(join(fx, "legacy-save.tar"));
    await rejects(src.blob({ mediaType: MT.dockerLayer, digest: `sha256:${"1".repeat(64)}`, size: 1 }), "BLOB_UNKNOWN", "1111");
  });
});
