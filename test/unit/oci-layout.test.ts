import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { sha256Bytes } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { MT } from "../../src/core/media-types.ts";
import { openOciLayoutSink, openOciLayoutSource } from "../../src/transports/oci-layout/index.ts";
import { blobInput, putImage, testImage } from "../helpers/blob-input.ts";
import { tempDir } from "../helpers/imgx.ts";
import { parseImageName } from "../../src/core/reference.ts";

const t = tempDir("imgx-ocilayout-");
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
beforeAll(() => generateAll(fx));
afterAll(t.cleanup);

const REF = "org.opencontainers.image.ref.name";
const CTR = "io.containerd.image.name";
const indexOf = (dir: string) => JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
async function rejects(pr: Promise<unknown>, code: string, text: string): Promise<void> {
  const e = await pr.then(() => undefined, (x) => x);
  expect(isImgxError(e, code as never)).toBe(true);
  expect((e as Error).message).toContain(text);
}

describe("OCI layout source", () => {
  test("selects by ref.name, by normalised containerd name and by digest; lists names when unknown", async () => {
    const dir = p("named");
    const sink = await openOciLayoutSink(dir, { existing: "error" });
    const [a, b, c] = [testImage("a"), testImage("b"), testImage("c")];
    await putImage(sink, a, ["app:1.2"]);
    await putImage(sink, b, ["2.0"]);
    await putImage(sink, c, []);
    await sink.commit();
    const all = await (await openOciLayoutSource(dir)).images();
    expect(all.map((i) => i.names)).toEqual([["docker.io/library/app:1.2"], ["2.0"], []]);
    for (const name of ["1.2", "app:1.2", "docker.io/library/app:1.2", "index.docker.io/library/app:1.2"])
      expect((await (await openOciLayoutSource(dir, name)).images()).map((i) => i.descriptor.digest)).toEqual([a.desc.digest]);
    expect((await (await openOciLayoutSource(dir, "2.0")).images())[0]!.descriptor.digest).toBe(b.desc.digest);
    expect((await (await openOciLayoutSource(dir, `@${c.desc.digest}`)).images())[0]!.descriptor.digest).toBe(c.desc.digest);
    await rejects((await openOciLayoutSource(dir, "other:1")).images(), "NOT_FOUND", "names present: docker.io/library/app:1.2, 2.0");
  });

  test("verifies manifests, serves ranged blobs, names missing blobs and a missing oci-layout", async () => {
    const dir = p("single");
    cpSync(join(fx, "single-oci"), dir, { recursive: true });
    const src = await openOciLayoutSource(dir);
    const [img] = await src.images();
    const m = await src.manifest(img!.descriptor);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    const layer = m.parsed.manifest.layers[0]!;
    const whole = new Uint8Array(await new Response(await src.blob(layer)).arrayBuffer());
    expect(sha256Bytes(whole)).toBe(layer.digest);
    expect(new Uint8Array(await new Response((await src.blobFrom(layer, 100) as { stream: ReadableStream }).stream).arrayBuffer())).toEqual(whole.subarray(100));
    rmSync(join(dir, "blobs", "sha256", layer.digest.slice(7)));
    await rejects(src.blob(layer), "BLOB_UNKNOWN", layer.digest);
    writeFileSync(join(dir, "blobs", "sha256", img!.descriptor.digest.slice(7)), "{}");
    await rejects(src.manifest(img!.descriptor), "SIZE_MISMATCH", img!.descriptor.digest);
    rmSync(join(dir, "oci-layout"));
    await rejects(openOciLayoutSource(dir), "BAD_ARCHIVE", `"${dir}": no oci-layout file`);
  });
});

describe("OCI layout sink", () => {
  test("a new layout appears only at commit; names are written as given (skopeo); platforms are kept", async () => {
    const dir = p("new");
    const sink = await openOciLayoutSink(dir, { existing: "error" });
    expect(sink.caps).toEqual({ maxConcurrentWrites: 8, acceptsIndex: true, needsKnownSize: false, family: "oci", multiImage: true, referrers: true });
    const img = testImage("n", "oci", { os: "linux", architecture: "arm64" });
    await putImage(sink, img, ["localhost:5000/team/app:v1", "1.0"]);
    expect(existsSync(dir)).toBe(false);
    await sink.commit();
    expect(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(indexOf(dir).manifests).toEqual([
      { ...img.desc, annotations: { [REF]: "localhost:5000/team/app:v1", [CTR]: "localhost:5000/team/app:v1" } },
      { ...img.desc, annotations: { [REF]: "1.0" } },
    ]);
    expect(readdirSync(join(dir, "blobs", "sha256")).sort()).toEqual([img.config, ...img.layers, img.manifest].map((b) => sha256Bytes(b).slice(7)).sort());
    expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
    await rejects(openOciLayoutSink(dir, { existing: "error" }), "DEST_EXISTS", `"${dir}"`);
  });

  test("update mode keeps old images, moves a reused name, writes index.json last", async () => {
    const dir = p("upd");
    const s1 = await openOciLayoutSink(dir, { existing: "update" });
    const [a, b] = [testImage("ua"), testImage("ub")];
    await putImage(s1, a, ["app:1", "app:latest"]);
    expect(existsSync(join(dir, "index.json"))).toBe(false);
    await s1.commit();
    const s2 = await openOciLayoutSink(dir, { existing: "update" });
    await putImage(s2, b, ["app:latest"]);
    await s2.commit();
    const names = indexOf(dir).manifests.map((m: { digest: string; annotations: Record<string, string> }) => [m.annotations[CTR], m.digest]);
    expect(names).toEqual([
      ["docker.io/library/app:1", a.desc.digest],
      ["docker.io/library/app:latest", b.desc.digest],
    ]);
    expect(existsSync(join(dir, ".imgx-lock"))).toBe(false);
  });

  test("a blob that fails verification is never committed; abort leaves the previous state", async () => {
    const dir = p("abort");
    const s1 = await openOciLayoutSink(dir, { existing: "update" });
    await putImage(s1, testImage("keep"), ["keep:1"]);
    await s1.commit();
    const before = readFileSync(join(dir, "index.json"), "utf8");
    const blobsBefore = readdirSync(join(dir, "blobs", "sha256")).sort();
    const s2 = await openOciLayoutSink(dir, { existing: "update" });
    const bytes = new TextEncoder().encode("not what it claims");
    await rejects(s2.putBlob(blobInput(bytes, { claim: sha256Bytes("something else") })), "DIGEST_MISMATCH", "content has digest");
    await rejects(s2.putBlob(blobInput(bytes, { claim: sha256Bytes("other"), unknownDigest: true })), "DIGEST_MISMATCH", "content has digest");
    // a blob whose digest is only known at the end is stored under the verified digest
    await s2.putBlob(blobInput(new TextEncoder().encode("late digest"), { unknownDigest: true }));
    expect(existsSync(join(dir, "blobs", "sha256", sha256Bytes("late digest").slice(7)))).toBe(true);
    await s2.abort(new Error("stop"));
    expect(readFileSync(join(dir, "index.json"), "utf8")).toBe(before);
    expect(readdirSync(join(dir, "blobs", "sha256")).filter((f) => !blobsBefore.includes(f))).toEqual([sha256Bytes("late digest").slice(7)]);
    expect(existsSync(join(dir, ".imgx-lock"))).toBe(false);

    const fresh = p("fresh");
    const s3 = await openOciLayoutSink(fresh, { existing: "error" });
    await s3.putBlob(blobInput(bytes));
    await s3.abort();
    expect(existsSync(fresh)).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
  });

  test("an index and its children: only the index is a top-level entry", async () => {
    const dir = p("index");
    const sink = await openOciLayoutSink(dir, { existing: "error" });
    const kids = [testImage("i1"), testImage("i2", "oci", { os: "linux", architecture: "arm64" })];
    for (const k of kids) {
      for (const b of [k.config, ...k.layers]) if (!(await sink.hasBlob({ mediaType: "x", digest: sha256Bytes(b), size: b.length }))) await sink.putBlob(blobInput(b));
      await sink.putManifest(k.desc, k.manifest, [].map(parseImageName), false);
    }
    const idx = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: kids.map((k) => k.desc) }));
    await sink.putManifest({ mediaType: MT.ociIndex, digest: sha256Bytes(idx), size: idx.length }, idx, ["multi:1"].map(parseImageName), true);
    await sink.commit();
    expect(indexOf(dir).manifests.map((m: { mediaType: string }) => m.mediaType)).toEqual([MT.ociIndex]);
    const src = await openOciLayoutSource(dir, "multi:1");
    const top = await src.manifest((await src.images())[0]!.descriptor);
    expect(top.parsed.kind).toBe("index");
  });
});
