// The blob mover (copy/blob-mover.ts) through its exported moveBlob, between real endpoints: a real
// registry behind the counting proxy as the source, an OCI layout pulled into in place, and a
// registry repository as sinks. What the proxy saw is the proof: how many GETs of the blob, with
// which Range, and how many bytes went out. Nothing here depends on how the mover is split inside.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Bytes, type Digest } from "../../src/core/digest.ts";
import { encodeJson } from "../../src/core/json.ts";
import { MT } from "../../src/core/media-types.ts";
import type { Descriptor } from "../../src/core/manifest.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { moveBlob, type MoveContext } from "../../src/copy/blob-mover.ts";
import type { CopyEvent } from "../../src/copy/events.ts";
import { copyImages } from "../../src/copy/pipeline.ts";
import { openOciLayoutSink } from "../../src/transports/oci-layout/index.ts";
import { openRegistrySink, openRegistrySource } from "../../src/transports/registry/index.ts";
import type { ImageSink } from "../../src/transports/types.ts";
import { startCountingProxy, type CountingProxy, type FaultAction } from "../harness/counting-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { seedImage } from "../harness/seed.ts";
import { blobOf, tinyImage } from "../harness/tiny-image.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-mover-");
let reg: RunningRegistry;
let proxy: CountingProxy;
const img = tinyImage({ seed: "blob-mover", layerBytes: 2 * 1024 * 1024 });
const layer: Descriptor = { mediaType: img.layer.mediaType, digest: img.layer.digest, size: img.layer.size };
const layerPath = `/v2/team/src/blobs/${img.layer.digest}`;
const layerGets = () => proxy.requests.filter((r) => r.method === "GET" && r.path === layerPath);
const diffId = JSON.parse(new TextDecoder().decode(img.config.bytes)).rootfs.diff_ids[0] as Digest;
/** Labelled a gzip layer, stored under its true digest, but not gzip at all. */
const junk = blobOf(MT.ociLayerGzip, new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff));

beforeAll(async () => {
  reg = await startRegistry("open");
  await seedImage(reg.url, "team/src", img, ["1"]);
  await seedImage(reg.url, "team/src", { blobs: [junk], manifest: img.manifest }, []);
  proxy = startCountingProxy(reg.url);
}, 30_000);
afterAll(async () => {
  proxy?.stop();
  await reg?.stop();
  t.cleanup();
});
beforeEach(() => {
  proxy.reset();
  proxy.setFault(undefined);
});

/** Faults for GETs of the layer only, by the GET's number (1-based); other requests pass untouched. */
function onLayerGet(f: (nth: number) => FaultAction | undefined) {
  let nth = 0;
  proxy.setFault((r) => (r.method === "GET" && r.path === layerPath ? f(++nth) : undefined));
}

let dirs = 0;
async function context(sink: ImageSink, extra: Partial<MoveContext> = {}) {
  const source = await openRegistrySource(parseDockerReference(`${proxy.host}/team/src:1`), { plainHttp: true, retries: 2 });
  const events: CopyEvent[] = [];
  return { ctx: { source, sink, emit: (e: CopyEvent) => events.push(e), retries: 2, ...extra } as MoveContext, events };
}
/** An OCI layout a pull writes into in place (where interrupted downloads stay as `<hex>.partial`). */
async function layoutSink() {
  const dir = join(t.dir, `layout-${++dirs}`);
  const sink = await openOciLayoutSink(dir, { existing: "update" });
  const file = join(dir, "blobs", "sha256", img.layer.digest.slice(7));
  return { sink, dir, file, partial: `${file}.partial` };
}
const starts = (events: CopyEvent[]) => events.filter((e) => e.type === "blob-start").length;

describe("a blob that fails verification is fetched again once from scratch", () => {
  test("one flipped byte in the first GET: the second GET brings the blob, exactly 2 GETs", async () => {
    onLayerGet((n) => (n === 1 ? { kind: "flip", at: 1_000_000 } : undefined));
    const l = await layoutSink();
    const { ctx, events } = await context(l.sink);
    const moved = await moveBlob(ctx, { src: layer, mediaType: layer.mediaType });
    expect(moved).toEqual({ desc: layer, state: "copied" });
    expect(layerGets().length).toBe(2);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    expect(events.filter((e) => e.type === "blob-done")).toHaveLength(1);
    await l.sink.abort();
  });

  test("every GET flipped: DIGEST_MISMATCH after exactly 2 GETs, and no blob or partial kept", async () => {
    onLayerGet(() => ({ kind: "flip", at: 12345 }));
    const l = await layoutSink();
    const { ctx } = await context(l.sink);
    const err = await moveBlob(ctx, { src: layer, mediaType: layer.mediaType }).catch((e) => e);
    expect(err.code).toBe("DIGEST_MISMATCH");
    expect(err.message).toContain(img.layer.digest);
    expect(layerGets().length).toBe(2);
    expect([existsSync(l.file), existsSync(l.partial)]).toEqual([false, false]);
    await l.sink.abort(err);
  });

  test("a descriptor claiming another size: SIZE_MISMATCH after 2 GETs, whatever the retry budget", async () => {
    const l = await layoutSink();
    const { ctx } = await context(l.sink, { retries: 5 });
    const err = await moveBlob(ctx, { src: { ...layer, size: layer.size + 10 }, mediaType: layer.mediaType }).catch((e) => e);
    expect(err.code).toBe("SIZE_MISMATCH");
    expect(layerGets().length).toBe(2);
    await l.sink.abort(err);
  });

  test("a cut body and a flipped byte draw on separate budgets: both recovered, 3 GETs", async () => {
    onLayerGet((n) => (n === 1 ? { kind: "reset", afterBytes: 500_000 } : n === 2 ? { kind: "flip", at: 10 } : undefined));
    const l = await layoutSink();
    const { ctx } = await context(l.sink, { retries: 1 });
    expect((await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    expect(layerGets().length).toBe(3);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    await l.sink.abort();
  });
});

describe("resuming a partial download", () => {
  const half = Math.floor(img.layer.size / 2);
  async function withPartial(bytes = img.layer.bytes.subarray(0, half)) {
    const l = await layoutSink();
    mkdirSync(join(l.dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(l.partial, bytes);
    return l;
  }

  test("a registry honouring Range: one GET for the rest (closed range), only the rest sent", async () => {
    const l = await withPartial();
    const { ctx, events } = await context(l.sink);
    expect((await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    const gets = layerGets();
    expect(gets.map((g) => [g.headers.range, g.status])).toEqual([[`bytes=${half}-${img.layer.size - 1}`, 206]]);
    expect(gets[0]!.bytesOut).toBe(img.layer.size - half);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    expect(existsSync(l.partial)).toBe(false);
    const progress = events.filter((e) => e.type === "blob-progress").at(-1);
    expect(progress).toMatchObject({ bytes: img.layer.size, size: img.layer.size });
    await l.sink.abort();
  });

  test("a registry ignoring Range (200, whole blob): starts over from byte 0 and the blob verifies", async () => {
    onLayerGet(() => ({ kind: "ignore-range" }));
    const l = await withPartial();
    const { ctx, events } = await context(l.sink);
    expect((await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    const gets = layerGets();
    // the ranged ask answered 200 (its body given up), then the whole blob without Range
    expect(gets.map((g) => [g.headers.range !== undefined, g.status])).toEqual([
      [true, 200],
      [false, 200],
    ]);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    expect(existsSync(l.partial)).toBe(false);
    // no failed attempt on the way: the 200 body was never taken for the rest of the partial
    expect(starts(events)).toBe(1);
    await l.sink.abort();
  });

  test("partial bytes that are wrong: the whole fails verification and is fetched again from scratch", async () => {
    const bad = img.layer.bytes.slice(0, half);
    bad[100]! ^= 0xff;
    const l = await withPartial(bad);
    const { ctx } = await context(l.sink);
    expect((await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    expect(layerGets().map((g) => g.headers.range)).toEqual([`bytes=${half}-${img.layer.size - 1}`, undefined]);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    await l.sink.abort();
  });
});

describe("blobs that need no GET", () => {
  test("a sink holding the blob: exists, nothing fetched; a layout file of another size does not count", async () => {
    const l = await layoutSink();
    mkdirSync(join(l.dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(l.file, img.layer.bytes);
    const { ctx } = await context(l.sink);
    expect(await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).toEqual({ desc: layer, state: "exists" });
    expect(layerGets().length).toBe(0);
    writeFileSync(l.file, img.layer.bytes.subarray(1));
    expect((await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    expect(layerGets().length).toBe(1);
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
    await l.sink.abort();
  });

  test("another repository of the same registry: mounted, nothing fetched; a repository elsewhere: copied", async () => {
    const sink = await openRegistrySink(parseDockerReference(`${proxy.host}/team/mounted:1`), { plainHttp: true, retries: 0 });
    const { ctx } = await context(sink, { mountFrom: { registry: proxy.host, repository: "team/src" } });
    expect(await moveBlob(ctx, { src: layer, mediaType: layer.mediaType })).toEqual({ desc: layer, state: "mounted" });
    expect(layerGets().length).toBe(0);
    expect(proxy.requests.filter((r) => r.method === "POST" && r.search.includes("mount=")).map((r) => r.status)).toEqual([201]);
    const other = await openRegistrySink(parseDockerReference(`${proxy.host}/team/copied:1`), { plainHttp: true, retries: 0 });
    const c2 = await context(other, { mountFrom: { registry: "elsewhere.example:5000", repository: "team/src" } });
    expect((await moveBlob(c2.ctx, { src: layer, mediaType: layer.mediaType })).state).toBe("copied");
    expect(layerGets().length).toBe(1);
    const head = await fetch(`${reg.url}/v2/team/copied/blobs/${img.layer.digest}`, { method: "HEAD" });
    expect([head.status, Number(head.headers.get("content-length"))]).toEqual([200, img.layer.size]);
  });
});

describe("a blob that changes form on the way", () => {
  test("gzip → uncompressed: stored under its diff_id, events from start to done name both digests", async () => {
    const l = await layoutSink();
    const { ctx, events } = await context(l.sink);
    const moved = await moveBlob(ctx, { src: layer, mediaType: MT.ociLayer, recompress: { from: "gzip", to: "none", diffId } });
    const tar = Bun.gunzipSync(img.layer.bytes.slice());
    expect(moved).toEqual({ desc: { mediaType: MT.ociLayer, digest: diffId, size: tar.length }, state: "copied" });
    expect(sha256Bytes(readFileSync(join(l.dir, "blobs", "sha256", diffId.slice(7))))).toBe(diffId);
    expect(events.map((e) => e.type).filter((x, i, a) => a[i - 1] !== x)).toEqual(["blob-start", "blob-progress", "blob-done"]);
    expect(events.filter((e) => e.type === "blob-progress").at(-1)).toMatchObject({ digest: layer.digest, bytes: layer.size });
    expect(events.at(-1)).toMatchObject({ type: "blob-done", digest: layer.digest, outDigest: diffId, state: "copied", size: tar.length });
    await l.sink.abort();
  });

  test("a diff_id the uncompressed bytes do not have: DIGEST_MISMATCH naming it, nothing stored", async () => {
    const l = await layoutSink();
    const { ctx } = await context(l.sink);
    const wrong = sha256Bytes("not the tar");
    const err = await moveBlob(ctx, { src: layer, mediaType: MT.ociLayer, recompress: { from: "gzip", to: "none", diffId: wrong } }).catch((e) => e);
    expect(err.code).toBe("DIGEST_MISMATCH");
    expect(err.message).toContain("diff_id");
    expect(err.message).toContain(wrong);
    expect(existsSync(join(l.dir, "blobs", "sha256", wrong.slice(7)))).toBe(false);
    await l.sink.abort(err);
  });

  test("a layer that is not valid gzip though its digest matches: BAD_ARCHIVE after one GET (fetching again brings the same bytes)", async () => {
    const l = await layoutSink();
    const { ctx } = await context(l.sink);
    const src = { mediaType: junk.mediaType, digest: junk.digest, size: junk.size };
    const err = await moveBlob(ctx, { src, mediaType: MT.ociLayer, recompress: { from: "gzip", to: "none", diffId } }).catch((e) => e);
    expect(err.code).toBe("BAD_ARCHIVE");
    expect(err.message).toContain(junk.digest);
    expect(proxy.requests.filter((r) => r.method === "GET" && r.path === `/v2/team/src/blobs/${junk.digest}`).length).toBe(1);
    await l.sink.abort(err);
  });
});

describe("through copyImages", () => {
  test("a layer two platforms share is fetched once for the whole index", async () => {
    const manifests = ["amd64", "arm64"].map((architecture) => {
      const config = blobOf(MT.ociConfig, encodeJson({ architecture, os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } }));
      const m = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: config.mediaType, digest: config.digest, size: config.size }, layers: [layer] };
      return { config, manifest: blobOf(MT.ociManifest, encodeJson(m)), architecture };
    });
    for (const m of manifests) await seedImage(reg.url, "team/src", { blobs: [img.layer, m.config], manifest: m.manifest }, []);
    const index = blobOf(MT.ociIndex, encodeJson({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: manifests.map((m) => ({ mediaType: MT.ociManifest, digest: m.manifest.digest, size: m.manifest.size, platform: { os: "linux", architecture: m.architecture } })) }));
    await seedImage(reg.url, "team/src", { blobs: [], manifest: index }, ["multi"]);
    const source = await openRegistrySource(parseDockerReference(`${proxy.host}/team/src:multi`), { plainHttp: true });
    const l = await layoutSink();
    const r = await copyImages(source, l.sink, { platforms: { all: true }, concurrency: 4 });
    expect(r.images.map((i) => i.digest)).toEqual([index.digest]);
    expect(layerGets().length).toBe(1);
    expect(r.blobs).toEqual({ copied: 3, exists: 0, mounted: 0 });
    expect(sha256Bytes(readFileSync(l.file))).toBe(img.layer.digest);
  });
});
