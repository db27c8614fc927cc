import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Bytes } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { MT } from "../../src/core/media-types.ts";
import { TarTree } from "../../src/storage/file-tree.ts";
import { indexTar } from "../../src/storage/tar-index.ts";
import { openDockerArchiveSink, openDockerArchiveSource } from "../../src/transports/docker-archive/index.ts";
import { openOciArchiveSink, openOciArchiveSource } from "../../src/transports/oci-archive/index.ts";
import { blobInput, putImage, testImage } from "../helpers/blob-input.ts";
import { tempDir } from "../helpers/imgx.ts";
import { parseImageName } from "../../src/core/reference.ts";

const t = tempDir("imgx-archsink-");
const p = (n: string) => join(t.dir, n);
afterAll(t.cleanup);

async function json(tree: TarTree, name: string): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await tree.readSmall(name, 1 << 20)));
}
async function rejects(pr: Promise<unknown>, code: string, text: string): Promise<void> {
  const e = await pr.then(() => undefined, (x) => x);
  expect(isImgxError(e, code as never)).toBe(true);
  expect((e as Error).message).toContain(text);
}
const noTemps = () => expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);

describe("oci-archive sink", () => {
  test("oci-layout first, each blob once, index.json last; our source reads it back", async () => {
    const path = p("out.oci.tar");
    const sink = await openOciArchiveSink(path, { existing: "error" });
    expect(sink.caps).toEqual({ maxConcurrentWrites: 1, acceptsIndex: true, needsKnownSize: true, family: "oci", multiImage: true, referrers: true });
    const [a, b] = [testImage("a"), testImage("b")];
    await putImage(sink, a, ["a:1"]);
    await putImage(sink, b, ["2.0"]);
    expect(existsSync(path)).toBe(false);
    await sink.commit();
    const names = [...indexTar(path).keys()];
    expect(names[0]).toBe("oci-layout");
    expect(names.at(-1)).toBe("index.json");
    expect(names.length).toBe(2 + 2 * 4);
    const src = await openOciArchiveSource(path, "2.0");
    const [img] = await src.images();
    expect(img!.descriptor.digest).toBe(b.desc.digest);
    expect((await src.manifest(img!.descriptor)).bytes).toEqual(b.manifest);
    noTemps();
    await rejects(openOciArchiveSink(path, { existing: "error" }), "DEST_EXISTS", `"${path}"`);
  });

  test("a blob failing verification aborts the archive; abort leaves nothing", async () => {
    const path = p("bad.oci.tar");
    const sink = await openOciArchiveSink(path, { existing: "error" });
    await rejects(sink.putBlob(blobInput(new TextEncoder().encode("lie"), { claim: sha256Bytes("truth") })), "DIGEST_MISMATCH", "content has digest");
    await sink.abort();
    expect(existsSync(path)).toBe(false);
    noTemps();
  });
});

describe("docker-archive sink", () => {
  test("Docker 25+ shape with manifest.json, repositories, oci-layout and index.json", async () => {
    const path = p("out.tar");
    const sink = await openDockerArchiveSink(path, { existing: "error" });
    expect(sink.caps).toEqual({ maxConcurrentWrites: 1, acceptsIndex: false, needsKnownSize: true, family: "docker", layerCompression: "none", multiImage: true, needsImageConfig: true });
    const [a, b, c] = [testImage("a", "docker"), testImage("b", "docker"), testImage("c", "docker")];
    await putImage(sink, a, ["docker.io/library/app:1", "localhost:5000/x/app:2"]);
    await putImage(sink, b, ["1.0"]); // a bare tag can't be a RepoTag
    await putImage(sink, c, ["app:1"]); // the name moves to the later image
    await putImage(sink, c, ["app:one"]); // the same image again: one entry, two tags
    await sink.commit();
    const tree = new TarTree(path);
    const hex = (x: Uint8Array) => sha256Bytes(x).slice(7);
    expect(await json(tree, "manifest.json")).toEqual([
      { Config: `blobs/sha256/${hex(a.config)}`, RepoTags: ["localhost:5000/x/app:2"], Layers: a.layers.map((l) => `blobs/sha256/${hex(l)}`) },
      { Config: `blobs/sha256/${hex(b.config)}`, RepoTags: null, Layers: b.layers.map((l) => `blobs/sha256/${hex(l)}`) },
      { Config: `blobs/sha256/${hex(c.config)}`, RepoTags: ["app:1", "app:one"], Layers: c.layers.map((l) => `blobs/sha256/${hex(l)}`) },
    ]);
    expect(await json(tree, "repositories")).toEqual({ "localhost:5000/x/app": { "2": hex(a.layers[1]!) }, app: { "1": hex(c.layers[1]!), one: hex(c.layers[1]!) } });
    expect(await json(tree, "oci-layout")).toEqual({ imageLayoutVersion: "1.0.0" });
    const idx = (await json(tree, "index.json")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
    expect(idx.manifests.map((m) => [m.digest, m.annotations?.["io.containerd.image.name"]])).toEqual([
      [a.desc.digest, "localhost:5000/x/app:2"],
      [b.desc.digest, undefined],
      [c.desc.digest, "docker.io/library/app:1"],
      [c.desc.digest, "docker.io/library/app:one"],
    ]);
    expect(tree.size(`blobs/sha256/${a.desc.digest.slice(7)}`)).toBe(a.manifest.length);
    // our own source reads it back, with the same layers and names
    const src = await openDockerArchiveSource(path, "app:1");
    const m = await src.manifest((await src.images())[0]!.descriptor);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    expect(m.parsed.manifest.layers.map((l) => l.digest)).toEqual(c.layers.map((l) => sha256Bytes(l)));
    noTemps();
  });

  test("a missing destination directory fails before anything is copied", async () => {
    await rejects(openDockerArchiveSink(p("no/such/dir/x.tar"), { existing: "error" }), "IO", `directory "${p("no/such/dir")}" does not exist`);
    await rejects(openOciArchiveSink(p("no/such/dir/x.tar"), { existing: "error" }), "IO", "does not exist");
  });

  test("an index is refused with a hint, and abort leaves nothing", async () => {
    const path = p("idx.tar");
    const sink = await openDockerArchiveSink(path, { existing: "error" });
    const idx = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }));
    await rejects(sink.putManifest({ mediaType: MT.ociIndex, digest: sha256Bytes(idx), size: idx.length }, idx, ["x:1"].map(parseImageName), true), "UNSUPPORTED", "one image per name");
    await sink.abort();
    expect(existsSync(path)).toBe(false);
    noTemps();
  });

  test("an existing file is refused unless updating, then replaced atomically at commit", async () => {
    const path = p("exists.tar");
    writeFileSync(path, "precious");
    await rejects(openDockerArchiveSink(path, { existing: "error" }), "DEST_EXISTS", `"${path}"`);
    const sink = await openDockerArchiveSink(path, { existing: "update" });
    await putImage(sink, testImage("u", "docker"), ["u:1"]);
    expect(await Bun.file(path).text()).toBe("precious");
    await sink.commit();
    expect((await (await openDockerArchiveSource(path)).images())[0]!.names).toEqual(["u:1"]);
  });
});
