// The registry sink driven directly (as the copy pipeline drives it) against the real registry,
// through the counting proxy so the tests see what crossed the wire; skopeo reads every result back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImgxError } from "../../src/core/errors.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import type { ImageSink, RegistryOptions } from "../../src/transports/types.ts";
import { blobInput } from "../helpers/blob-input.ts";
import { startCountingProxy, type CountingProxy, type FaultAction, type SeenRequest } from "../harness/counting-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeoCopy, skopeoInspectDigest } from "../harness/skopeo.ts";
import { tinyImage, type TinyImage } from "../harness/tiny-image.ts";
import { parseImageName } from "../../src/core/reference.ts";

const dir = mkdtempSync(join(tmpdir(), "imgx-push-"));
let reg: RunningRegistry;
let proxy: CountingProxy;
const UPLOAD_PATCH = "PATCH /v2/<name>/blobs/uploads/<id>";
const UPLOAD_PUT = "PUT /v2/<name>/blobs/uploads/<id>";

beforeAll(async () => {
  reg = await startRegistry("open");
  proxy = startCountingProxy(reg.host);
}, 30_000);
afterAll(async () => {
  proxy?.stop();
  await reg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sinkFor = (repo: string, opts: RegistryOptions = {}) => openRegistrySink(parseDockerReference(`${proxy.host}/${repo}`), { retries: 0, timeoutMs: 10_000, ...opts });

/** What the pipeline does: HEAD each blob, upload the missing ones, then the manifest under its tag. */
async function pushImage(sink: ImageSink, img: TinyImage, tag: string, known = true): Promise<void> {
  for (const b of img.blobs) if (!(await sink.hasBlob(b))) await sink.putBlob(blobInput(b.bytes, { unknownDigest: !known, mediaType: b.mediaType }));
  await sink.putManifest(img.manifest, img.manifest.bytes, [tag].map(parseImageName), true);
  await sink.commit();
}

/** skopeo reads the image back (verifying every blob) with the digest we pushed. */
async function readBack(repo: string, img: TinyImage): Promise<void> {
  expect(await skopeoInspectDigest(`${reg.host}/${repo}`)).toBe(img.manifest.digest);
  const out = join(dir, repo.replace(/\W/g, "_"));
  await skopeoCopy(`docker://${reg.host}/${repo}`, `oci:${out}:x`);
  const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
  expect(index.manifests[0].digest).toBe(img.manifest.digest);
}

describe("registry sink uploads", () => {
  test("caps are what the pipeline expects", async () => {
    const sink = await sinkFor("caps/app", { concurrency: 3 });
    expect(sink.caps).toEqual({ maxConcurrentWrites: 3, remote: true, acceptsIndex: true, needsKnownSize: false, multiImage: false, referrers: true });
    expect((await sinkFor("caps/app")).caps.maxConcurrentWrites).toBe(6);
  });

  test("monolithic: one PUT per blob, streamed with Content-Length (not chunked framing)", async () => {
    const img = tinyImage({ seed: "mono", layerBytes: 300_000 });
    proxy.reset();
    await pushImage(await sinkFor("mono/app"), img, "1");
    const c = proxy.counts();
    expect(c[UPLOAD_PATCH]).toBeUndefined();
    expect(c[UPLOAD_PUT]).toBe(2);
    const puts = proxy.requests.filter((r) => r.pattern === UPLOAD_PUT);
    // Bun sends a streamed body chunked unless Content-Length is set; proxies answer 411 to that
    for (const p of puts) {
      expect(p.headers.transferEncoding).toBeUndefined();
      expect(Number(p.headers.contentLength)).toBe(p.bytesIn);
      expect(p.search).toMatch(/[?&]digest=sha256%3A[0-9a-f]{64}$/);
    }
    expect(puts.map((p) => p.bytesIn).sort((a, b) => a - b)).toEqual([img.config.size, img.layer.size].sort((a, b) => a - b));
    await readBack("mono/app:1", img);
  }, 30_000);

  test("chunked: a blob bigger than the chunk size goes up as several PATCHes with Content-Range, then PUT ?digest=", async () => {
    const img = tinyImage({ seed: "chunked", layerBytes: 2_600_000 });
    const chunk = 1024 * 1024;
    proxy.reset();
    await pushImage(await sinkFor("chunked/app", { uploadMode: "chunked", chunkSize: chunk }), img, "1");
    const patches = proxy.requests.filter((r) => r.pattern === UPLOAD_PATCH);
    const layerPatches = patches.filter((p) => Number(p.headers.contentLength) > img.config.size || p.headers.contentRange !== `0-${img.config.size - 1}`);
    expect(layerPatches.length).toBe(Math.ceil(img.layer.size / chunk));
    let start = 0;
    for (const p of layerPatches) {
      const len = Math.min(chunk, img.layer.size - start);
      expect(p.headers.contentRange).toBe(`${start}-${start + len - 1}`);
      expect(p.headers.contentLength).toBe(String(len));
      expect(p.headers.transferEncoding).toBeUndefined();
      expect(p.headers.contentType).toBe("application/octet-stream");
      expect(p.bytesIn).toBe(len);
      start += len;
    }
    // each PATCH went to the Location the previous answer gave (distribution's _state changes every time)
    const urls = patches.map((p) => p.search);
    expect(new Set(urls).size).toBe(urls.length);
    const finals = proxy.requests.filter((r) => r.pattern === UPLOAD_PUT);
    expect(finals.every((f) => f.bytesIn === 0 && /_state=/.test(f.search) && /&digest=sha256%3A/.test(f.search))).toBe(true);
    await readBack("chunked/app:1", img);
  }, 60_000);

  test("unknown size (recompressed on the way): digest taken from result() after the stream ended", async () => {
    for (const mode of ["chunked", "auto"] as const) {
      const img = tinyImage({ seed: `unknown-${mode}`, layerBytes: 1_500_000 });
      proxy.reset();
      await pushImage(await sinkFor(`unknown/${mode}`, { uploadMode: mode, chunkSize: 1024 * 1024 }), img, "1", false);
      const patches = proxy.requests.filter((r) => r.pattern === UPLOAD_PATCH);
      if (mode === "chunked") expect(patches.every((p) => p.headers.contentLength === String(p.bytesIn))).toBe(true);
      expect(patches.reduce((n, p) => n + p.bytesIn, 0)).toBe(img.layer.size + img.config.size);
      await readBack(`unknown/${mode}:1`, img);
    }
  }, 60_000);

  test("a source whose end comes after its last byte is read to its end in every mode (result() valid, verification ran)", async () => {
    // Bun stops reading a body once Content-Length bytes are sent and cancels it after the
    // response: a sink that relied on that would leave the verify stream unfinished
    const img = tinyImage({ seed: "late-end", layerBytes: 150_000 });
    const cases = [
      { uploadMode: "auto", known: true },
      { uploadMode: "monolithic", known: true },
      { uploadMode: "chunked", known: true },
      { uploadMode: "auto", known: false },
      { uploadMode: "chunked", known: false },
    ] as const;
    for (const [i, c] of cases.entries()) {
      const sink = await sinkFor(`late/app${i}`, { uploadMode: c.uploadMode, chunkSize: 64 * 1024 });
      const input = blobInput(img.layer.bytes, { unknownDigest: !c.known, endDelayMs: 300 });
      await sink.putBlob(input);
      expect(input.ended()).toBe(true);
      expect(input.result()).toEqual({ digest: img.layer.digest, size: img.layer.size });
      expect(await sink.hasBlob(img.layer)).toBe(true);
    }
    // a lie found only at the (late) end is our DIGEST_MISMATCH, not the registry's complaint
    const sink = await sinkFor("late/lie");
    const lie = tinyImage({ seed: "late-other" }).layer.digest;
    const err = await sink.putBlob(blobInput(img.layer.bytes, { claim: lie, endDelayMs: 300 })).catch((e) => e);
    expect(err.code).toBe("DIGEST_MISMATCH");
    expect(await sink.hasBlob(img.layer)).toBe(false);
  }, 30_000);

  test("a failed upload releases its source: the blob's stream is cancelled, not left open", async () => {
    const img = tinyImage({ seed: "release", layerBytes: 600_000 });
    const cases: { name: string; opts: RegistryOptions; known: boolean; fault: (r: SeenRequest) => FaultAction | undefined }[] = [
      { name: "POST refused", opts: {}, known: true, fault: (r) => (r.method === "POST" ? { kind: "status", status: 500 } : undefined) },
      { name: "monolithic PUT cut", opts: { uploadMode: "monolithic" }, known: true, fault: (r) => (r.pattern === UPLOAD_PUT ? { kind: "reset-request", afterBytes: 100_000 } : undefined) },
      { name: "chunked PATCH refused", opts: { uploadMode: "chunked", chunkSize: 128 * 1024 }, known: true, fault: (r) => (r.pattern === UPLOAD_PATCH && r.headers.contentRange?.startsWith("131072-") ? { kind: "status", status: 500 } : undefined) },
      { name: "buffered PATCH refused", opts: { uploadMode: "chunked", chunkSize: 128 * 1024 }, known: false, fault: (r) => (r.pattern === UPLOAD_PATCH ? { kind: "status", status: 500 } : undefined) },
      { name: "streamed PATCH cut", opts: { uploadMode: "stream" }, known: false, fault: (r) => (r.pattern === UPLOAD_PATCH ? { kind: "reset-request", afterBytes: 100_000 } : undefined) },
    ];
    try {
      for (const [i, c] of cases.entries()) {
        proxy.setFault(c.fault);
        const input = blobInput(img.layer.bytes, { unknownDigest: !c.known, piece: 16 * 1024 });
        const err = await (await sinkFor(`release/app${i}`, c.opts)).putBlob(input).catch((e) => e);
        expect([c.name, err instanceof ImgxError]).toEqual([c.name, true]);
        await Bun.sleep(20);
        expect([c.name, input.cancelled()]).toEqual([c.name, true]);
      }
    } finally {
      proxy.setFault(undefined);
    }
  }, 30_000);

  test("HEAD before upload: 404 is 'upload it', a re-push uploads nothing", async () => {
    const img = tinyImage({ seed: "again" });
    const sink = await sinkFor("again/app");
    expect(await sink.hasBlob(img.layer)).toBe(false);
    await pushImage(sink, img, "1");
    expect(await sink.hasBlob(img.layer)).toBe(true);
    proxy.reset();
    await pushImage(await sinkFor("again/app"), img, "1");
    const c = proxy.counts();
    expect(Object.keys(c).sort()).toEqual(["GET /v2/", "HEAD /v2/<name>/blobs/<digest>", "PUT /v2/<name>/manifests/<tag>"]);
    expect(c["HEAD /v2/<name>/blobs/<digest>"]).toBe(2);
  }, 30_000);

  test("cross-repository mount: 201 mounts; a source without the blob falls back (its session deleted)", async () => {
    const img = tinyImage({ seed: "mount" });
    await pushImage(await sinkFor("mount/src"), img, "1");
    const sink = await sinkFor("mount/dst");
    proxy.reset();
    expect(await sink.mountBlob!(img.layer, { registry: proxy.host, repository: "mount/src" })).toBe(true);
    expect(proxy.requests.find((r) => r.pattern.startsWith("POST"))?.status).toBe(201);
    expect(await sink.hasBlob(img.layer)).toBe(true);
    const other = tinyImage({ seed: "mount-missing" });
    proxy.reset();
    expect(await sink.mountBlob!(other.layer, { registry: proxy.host, repository: "mount/src" })).toBe(false);
    expect(proxy.requests.map((r) => `${r.pattern} ${r.status}`)).toEqual(["POST /v2/<name>/blobs/uploads/ 202", "DELETE /v2/<name>/blobs/uploads/<id> 204"]);
    // another registry, or the same repository: no request at all
    proxy.reset();
    expect(await sink.mountBlob!(img.layer, { registry: "elsewhere.example", repository: "mount/src" })).toBe(false);
    expect(await sink.mountBlob!(img.layer, { registry: proxy.host, repository: "mount/dst" })).toBe(false);
    expect(proxy.requests.length).toBe(0);
  }, 30_000);

  test("a blob whose bytes fail verification is never committed and its session is deleted", async () => {
    const img = tinyImage({ seed: "bad-bytes", layerBytes: 200_000 });
    for (const uploadMode of ["auto", "chunked"] as const) {
      const sink = await sinkFor(`bad/${uploadMode}`, { uploadMode, chunkSize: 64 * 1024 });
      proxy.reset();
      const lie = tinyImage({ seed: "other" }).layer.digest;
      const err = await sink.putBlob(blobInput(img.layer.bytes, { claim: lie })).catch((e) => e);
      expect(err).toBeInstanceOf(ImgxError);
      expect(err.code).toBe("DIGEST_MISMATCH");
      await sink.abort(err);
      expect(proxy.requests.some((r) => r.pattern === "DELETE /v2/<name>/blobs/uploads/<id>")).toBe(true);
      expect(await sink.hasBlob(img.layer)).toBe(false);
      expect(await sink.hasBlob({ ...img.layer, digest: lie })).toBe(false);
    }
  }, 30_000);

  test("an interrupted chunked upload: status from GET, kept on a network failure, resumed at the registry's offset", async () => {
    const img = tinyImage({ seed: "resume", layerBytes: 3_200_000 });
    const chunk = 512 * 1024;
    const opts: RegistryOptions = { uploadMode: "chunked", chunkSize: chunk };
    let patches = 0;
    proxy.reset();
    // the 4th PATCH is refused (like a restarting registry behind a proxy)
    proxy.setFault((r) => (r.pattern === UPLOAD_PATCH && ++patches === 4 ? { kind: "status", status: 503 } : undefined));
    const first = await sinkFor("resume/app", opts);
    const err = await first.putBlob(blobInput(img.layer.bytes)).catch((e) => e);
    expect(err.code).toBe("NETWORK");
    expect(err.message).toContain("resume/app");
    await first.abort(err);
    proxy.setFault(undefined);
    expect(proxy.requests.some((r) => r.method === "DELETE")).toBe(false);
    const { uploadStatus } = await import("../../src/transports/registry/upload.ts");
    const { RegistryClient } = await import("../../src/transports/registry/client.ts");
    const lastOk = proxy.requests.filter((r) => r.pattern === UPLOAD_PATCH && r.status === 202).pop()!;
    // the Location of the last accepted PATCH carries the registry's current _state
    const st = await uploadStatus(new RegistryClient(proxy.host, {}), "resume/app", lastOk.location!);
    expect(st.offset).toBe(3 * chunk);
    proxy.reset();
    await pushImage(await sinkFor("resume/app", opts), img, "1");
    const sent = proxy.requests.filter((r) => r.pattern === UPLOAD_PATCH).reduce((n, r) => n + r.bytesIn, 0);
    expect(sent).toBe(img.layer.size - 3 * chunk + img.config.size);
    await readBack("resume/app:1", img);
  }, 60_000);

  test("abort() deletes the sessions of uploads still in flight", async () => {
    const img = tinyImage({ seed: "inflight", layerBytes: 400_000 });
    const sink = await sinkFor("inflight/app", { uploadMode: "chunked", chunkSize: 128 * 1024 });
    proxy.reset();
    // hold the second PATCH so the upload is mid-way when abort() runs
    proxy.setFault((r) => (r.pattern === UPLOAD_PATCH && r.headers.contentRange?.startsWith("131072-") ? { kind: "stall", ms: 1500 } : undefined));
    const put = sink.putBlob(blobInput(img.layer.bytes)).catch((e) => e);
    while (!proxy.requests.some((r) => r.headers.contentRange?.startsWith("131072-"))) await Bun.sleep(20);
    await sink.abort();
    proxy.setFault(undefined);
    expect(proxy.requests.filter((r) => r.pattern === "DELETE /v2/<name>/blobs/uploads/<id>").length).toBeGreaterThanOrEqual(1);
    await put;
    expect(await sink.hasBlob(img.layer)).toBe(false);
  }, 30_000);
});
