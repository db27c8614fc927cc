// Referrers (OCI 1.1) against distribution 2.8, which has no referrers API: artifacts are found and
// written through the sha256-<hex> fallback tag. The test pushes the artifacts itself, as oras would.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { loggedRequests } from "../harness/access-log.ts";
import { startRegistries, type RunningRegistry } from "../harness/registry.ts";
import { seedImage } from "../harness/seed.ts";
import { skopeo } from "../harness/skopeo.ts";
import { blobOf, tinyImage, type Blob } from "../harness/tiny-image.ts";
import { imgx, tempDir } from "../helpers/imgx.ts";

let src: RunningRegistry;
let dst: RunningRegistry;
const t = tempDir("imgx-referrers-");
const img = tinyImage({ seed: "referrers" });
const EMPTY = blobOf("application/vnd.oci.empty.v1+json", new TextEncoder().encode("{}"));

/** An artifact manifest (OCI 1.1 shape) with one blob, pointing at `subject`. */
function artifact(subject: Blob, artifactType: string, content: string): { blobs: Blob[]; manifest: Blob } {
  const layer = blobOf("application/json", new TextEncoder().encode(content));
  const m = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType,
    config: { mediaType: EMPTY.mediaType, digest: EMPTY.digest, size: EMPTY.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { "org.opencontainers.image.created": "2026-12-02T00:00:00Z" },
  };
  return { blobs: [EMPTY, layer], manifest: blobOf(m.mediaType, new TextEncoder().encode(JSON.stringify(m))) };
}

const fallbackTag = (d: string) => d.replace(":", "-");

/** What a pre-1.1 client does after pushing an artifact: list it in its subject's fallback tag index. */
async function addToFallback(base: string, repo: string, subject: Blob, a: { manifest: Blob }, artifactType: string): Promise<void> {
  const index = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: a.manifest.mediaType, digest: a.manifest.digest, size: a.manifest.size, artifactType }] };
  const r = await fetch(`${base}/v2/${repo}/manifests/${fallbackTag(subject.digest)}`, { method: "PUT", body: JSON.stringify(index), headers: { "content-type": index.mediaType } });
  if (r.status !== 201) throw new Error(`fallback tag: ${r.status} ${await r.text()}`);
}

async function fallbackIndex(r: RunningRegistry, repo: string, subject: string): Promise<{ status: number; digests: string[] }> {
  const res = await fetch(`${r.url}/v2/${repo}/manifests/${fallbackTag(subject)}`, { headers: { accept: "application/vnd.oci.image.index.v1+json" } });
  if (res.status !== 200) return { status: res.status, digests: [] };
  const body = (await res.json()) as { manifests: { digest: string }[] };
  return { status: 200, digests: body.manifests.map((m) => m.digest) };
}

const sbom = artifact(img.manifest, "application/vnd.example.sbom.v1+json", '{"packages":["hello"]}');
const sig = artifact(sbom.manifest, "application/vnd.example.signature.v1", '{"sig":"abc"}');

beforeAll(async () => {
  ({ open: src } = await startRegistries(["open"]));
  ({ open: dst } = await startRegistries(["open"]));
  await seedImage(src.url, "team/app", img, ["1"]);
  await seedImage(src.url, "team/app", sbom, []);
  await addToFallback(src.url, "team/app", img.manifest, sbom, "application/vnd.example.sbom.v1+json");
  await seedImage(src.url, "team/app", sig, []);
  await addToFallback(src.url, "team/app", sbom.manifest, sig, "application/vnd.example.signature.v1");
}, 60_000);
afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
  t.cleanup();
});

test("inspect --referrers finds the artifacts through the fallback tag, signatures of SBOMs included", async () => {
  const r = await imgx(["inspect", "--referrers", "--json", `${src.host}/team/app:1`]);
  expect(r.stderr).toBe("");
  const doc = JSON.parse(r.stdout);
  expect(doc.subject).toBe(img.manifest.digest);
  expect(doc.referrers.map((x: { digest: string; subject: string; artifactType: string }) => [x.digest, x.subject, x.artifactType])).toEqual([
    [sbom.manifest.digest, img.manifest.digest, "application/vnd.example.sbom.v1+json"],
    [sig.manifest.digest, sbom.manifest.digest, "application/vnd.example.signature.v1"],
  ]);
  const text = await imgx(["inspect", "--referrers", `${src.host}/team/app:1`]);
  expect(text.stdout).toContain(`Referrers of ${img.manifest.digest}: 2`);
});

test("copy --referrers carries every artifact; the destination without the API lists them in the fallback tag", async () => {
  const before = await fallbackIndex(dst, "mirror/app", img.manifest.digest);
  expect(before.status).toBe(404);
  const r = await imgx(["copy", "--referrers", "--json", `${src.host}/team/app:1`, `${dst.host}/mirror/app:1`]);
  expect(r.stderr).toBe("");
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(events.filter((e) => e.type === "referrer").map((e) => e.digest)).toEqual([sbom.manifest.digest, sig.manifest.digest]);
  expect(events.at(-1).referrers).toBe(2);
  expect(await fallbackIndex(dst, "mirror/app", img.manifest.digest)).toEqual({ status: 200, digests: [sbom.manifest.digest] });
  expect(await fallbackIndex(dst, "mirror/app", sbom.manifest.digest)).toEqual({ status: 200, digests: [sig.manifest.digest] });
  // skopeo reads the artifact back by the digest the fallback tag names, byte for byte
  const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${dst.host}/mirror/app@${sig.manifest.digest}`]);
  expect(raw).toBe(new TextDecoder().decode(sig.manifest.bytes));
  // again: nothing listed twice, no manifest re-PUT of the fallback index
  const puts = () => loggedRequests(dst.logPath).filter((q) => q.method === "PUT" && q.uri.includes("/manifests/sha256-")).length;
  const n = puts();
  const again = await imgx(["copy", "--referrers", `${src.host}/team/app:1`, `${dst.host}/mirror/app:1`]);
  expect(again.code).toBe(0);
  expect(puts()).toBe(n);
  expect((await fallbackIndex(dst, "mirror/app", img.manifest.digest)).digests).toEqual([sbom.manifest.digest]);
});

test("pull --referrers into a layout and push --referrers from it: the artifacts survive the round trip", async () => {
  const layout = join(t.dir, "bundle");
  const p = await imgx(["pull", "-q", "--referrers", `${src.host}/team/app:1`, `oci:${layout}:1`]);
  expect(p.stderr).toBe("");
  const index = JSON.parse(await Bun.file(join(layout, "index.json")).text()) as { manifests: { digest: string }[] };
  expect(index.manifests.map((m) => m.digest).sort()).toEqual([img.manifest.digest, sbom.manifest.digest, sig.manifest.digest].sort());
  const push = await imgx(["push", "-q", "--referrers", `oci:${layout}:1`, `${dst.host}/from-layout/app:1`]);
  expect(push.stderr).toBe("");
  expect((await fallbackIndex(dst, "from-layout/app", img.manifest.digest)).digests).toEqual([sbom.manifest.digest]);
  expect((await fallbackIndex(dst, "from-layout/app", sbom.manifest.digest)).digests).toEqual([sig.manifest.digest]);
});

test("without --referrers nothing but the image moves; a destination that can't hold them is refused", async () => {
  const r = await imgx(["copy", `${src.host}/team/app:1`, `${dst.host}/plain/app:1`]);
  expect(r.code).toBe(0);
  expect((await fallbackIndex(dst, "plain/app", img.manifest.digest)).status).toBe(404);
  const bad = await imgx(["copy", "--referrers", `${src.host}/team/app:1`, `docker-archive:${join(t.dir, "x.tar")}`]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("cannot hold artifacts");
});

test("sync --referrers carries the artifacts of each tag, not the fallback tags as images; a rerun uploads nothing", async () => {
  const r = await imgx(["sync", "--json", "--referrers", `${src.host}/team/app`, `${dst.host}/synced/app`]);
  expect(r.stderr).toBe("");
  const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(events.find((e) => e.type === "sync-image")).toMatchObject({ state: "copied", referrers: 2 });
  expect(await fallbackIndex(dst, "synced/app", img.manifest.digest)).toEqual({ status: 200, digests: [sbom.manifest.digest] });
  expect(await fallbackIndex(dst, "synced/app", sbom.manifest.digest)).toEqual({ status: 200, digests: [sig.manifest.digest] });
  const before = loggedRequests(dst.logPath).length;
  const again = await imgx(["sync", "--json", "--referrers", `${src.host}/team/app`, `${dst.host}/synced/app`]);
  const ev2 = again.stdout.trim().split("\n").map((l) => JSON.parse(l));
  // the fallback tags are not tags to mirror: only "1" is synced; its artifacts are checked again
  // (a current image may have gained some) but nothing is uploaded and no fallback tag rewritten
  expect(ev2.filter((e) => e.type === "sync-image").map((e) => [e.state, e.referrers])).toEqual([["current", 2]]);
  const after = loggedRequests(dst.logPath).slice(before);
  expect(after.filter((q) => q.method === "POST" || q.method === "PATCH" || (q.method === "PUT" && q.uri.includes("/manifests/sha256-")))).toEqual([]);
  expect((await fallbackIndex(dst, "synced/app", img.manifest.digest)).digests).toEqual([sbom.manifest.digest]);
});
