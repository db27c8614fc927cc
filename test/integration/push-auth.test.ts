// The registry sink against authenticated and TLS registries, and the registry's manifest
// rejections: errors must name the repository and carry the registry's own code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import type { ImageSink, RegistryOptions } from "../../src/transports/types.ts";
import { blobInput } from "../helpers/blob-input.ts";
import { startRegistries, startRegistry, type RegistryMode, type RunningRegistry } from "../harness/registry.ts";
import { skopeoCopy, skopeoInspectDigest } from "../harness/skopeo.ts";
import { tinyImage, type TinyImage } from "../harness/tiny-image.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseImageName } from "../../src/core/reference.ts";

const dir = mkdtempSync(join(tmpdir(), "imgx-push-auth-"));
let regs = {} as Record<RegistryMode, RunningRegistry>;

beforeAll(async () => {
  regs = await startRegistries(["open", "basic", "token", "tls"]);
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(regs).map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const user = (r: RunningRegistry) => ({ username: r.users[0]!.name, password: r.users[0]!.password });
const creds = (r: RunningRegistry) => `${r.users[0]!.name}:${r.users[0]!.password}`;
const sinkFor = (r: RunningRegistry, repo: string, opts: RegistryOptions = {}) =>
  openRegistrySink(parseDockerReference(`${r.host}/${repo}`), { retries: 0, timeoutMs: 10_000, ...opts });

async function pushImage(sink: ImageSink, img: TinyImage, names: string[]): Promise<void> {
  for (const b of img.blobs) if (!(await sink.hasBlob(b))) await sink.putBlob(blobInput(b.bytes, { mediaType: b.mediaType }));
  await sink.putManifest(img.manifest, img.manifest.bytes, (names).map(parseImageName), true);
  await sink.commit();
}

describe("registry sink with auth and TLS", () => {
  test("token: an authenticated push works; an anonymous one is refused naming the repository", async () => {
    const r = regs.token;
    const img = tinyImage({ seed: "token" });
    await pushImage(await sinkFor(r, "private/app", user(r)), img, ["1"]);
    expect(await skopeoInspectDigest(`${r.host}/private/app:1`, { creds: creds(r) })).toBe(img.manifest.digest);
    const ts = r.tokenServer!;
    expect(ts.requests.some((q) => q.withCredentials && q.scopes.includes("repository:private/app:pull,push"))).toBe(true);

    const anon = await sinkFor(r, "private/other");
    const other = tinyImage({ seed: "token-anon" });
    const err = await anon.putBlob(blobInput(other.layer.bytes)).catch((e) => e);
    expect(["UNAUTHORIZED", "DENIED"]).toContain(err.code);
    expect(err.message).toMatch(/^Cannot [^:]+"[^"]*private\/other"/);
    expect(err.message.split("\n").length).toBe(1);
    const head = await anon.hasBlob(other.layer).catch((e) => e);
    expect(["UNAUTHORIZED", "DENIED"]).toContain(head.code);
    expect(head.message).toContain("private/other");
    // anonymous users may pull public/: HEAD works there, push still doesn't
    const pub = await sinkFor(r, "public/app", user(r));
    await pushImage(pub, img, ["1"]);
    const anonPub = await sinkFor(r, "public/app");
    const pushErr = await anonPub.putManifest(img.manifest, img.manifest.bytes, ["2"].map(parseImageName), true).catch((e) => e);
    expect(["UNAUTHORIZED", "DENIED"]).toContain(pushErr.code);
    expect(pushErr.message).toContain("public/app:2");
  }, 30_000);

  test("basic: push with credentials; a wrong password is UNAUTHORIZED and never shown", async () => {
    const r = regs.basic;
    const img = tinyImage({ seed: "basic" });
    await pushImage(await sinkFor(r, "b/app", user(r)), img, ["1"]);
    expect(await skopeoInspectDigest(`${r.host}/b/app:1`, { creds: creds(r) })).toBe(img.manifest.digest);
    const bad = await sinkFor(r, "b/app", { username: r.users[0]!.name, password: "not-the-password-77" });
    const err = await bad.putBlob(blobInput(tinyImage({ seed: "basic-bad" }).layer.bytes)).catch((e) => e);
    expect(err.code).toBe("UNAUTHORIZED");
    expect(err.message).toContain("b/app");
    expect(`${err.message} ${err.hint ?? ""}`).not.toContain("not-the-password-77");
  }, 30_000);

  test("TLS: --ca-file trusts the harness CA; skopeo copies the result back", async () => {
    const r = regs.tls;
    const img = tinyImage({ seed: "tls", layerBytes: 100_000 });
    await pushImage(await sinkFor(r, "t/app", { caFile: r.caFile, uploadMode: "chunked", chunkSize: 32 * 1024 }), img, ["1"]);
    expect(await skopeoInspectDigest(`${r.host}/t/app:1`)).toBe(img.manifest.digest);
    await skopeoCopy(`docker://${r.host}/t/app:1`, `oci:${join(dir, "tls-back")}:x`);
    const untrusted = await (await sinkFor(r, "t/app")).hasBlob(img.layer).catch((e) => e);
    expect(untrusted.code).toBe("TLS");
  }, 30_000);

  test("basic auth over TLS (modes combined): credentials and --ca-file together", async () => {
    const r = await startRegistry("basic", { tls: true });
    try {
      expect(r.url.startsWith("https://")).toBe(true);
      const img = tinyImage({ seed: "basic-tls" });
      await pushImage(await sinkFor(r, "bt/app", { ...user(r), caFile: r.caFile }), img, ["1"]);
      expect(await skopeoInspectDigest(`${r.host}/bt/app:1`, { creds: creds(r) })).toBe(img.manifest.digest);
      const anon = await (await sinkFor(r, "bt/app", { caFile: r.caFile })).hasBlob(img.layer).catch((e) => e);
      expect(anon.code).toBe("UNAUTHORIZED");
    } finally {
      await r.stop();
    }
  }, 30_000);

  test("manifest names: a bare tag, a full reference's tag, and by digest when there are none", async () => {
    const r = regs.open;
    const img = tinyImage({ seed: "names" });
    const sink = await sinkFor(r, "names/app");
    await pushImage(sink, img, ["1.10", `${r.host}/names/app:stable`, "docker.io/library/alpine:3"]);
    for (const tag of ["1.10", "stable", "3"]) expect(await skopeoInspectDigest(`${r.host}/names/app:${tag}`)).toBe(img.manifest.digest);
    const byDigest = tinyImage({ seed: "names-digest" });
    await pushImage(sink, byDigest, []);
    expect(await skopeoInspectDigest(`${r.host}/names/app@${byDigest.manifest.digest}`)).toBe(byDigest.manifest.digest);
    const tags = (await (await fetch(`${r.url}/v2/names/app/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags.sort()).toEqual(["1.10", "3", "stable"]);
  }, 30_000);

  test("the registry's manifest rejection: MANIFEST_BLOB_UNKNOWN with its detail, naming the image", async () => {
    const r = regs.open;
    const img = tinyImage({ seed: "reject" });
    const sink = await sinkFor(r, "reject/app");
    const err = await sink.putManifest(img.manifest, img.manifest.bytes, ["1"].map(parseImageName), true).catch((e) => e);
    expect(err.message).toContain("MANIFEST_BLOB_UNKNOWN");
    expect(err.message).toContain(`"${r.host}/reject/app:1"`);
    expect(err.message.startsWith("Cannot push manifest")).toBe(true);
    // bytes that are not the descriptor's: the registry answers MANIFEST_INVALID or DIGEST_INVALID
    await pushImage(sink, img, ["ok"]);
    const garbled = new TextEncoder().encode('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}}');
    const bad = await sink.putManifest({ ...img.manifest, size: garbled.length }, garbled, ["2"].map(parseImageName), true).catch((e) => e);
    expect(bad.message).toMatch(/MANIFEST_INVALID|DIGEST_INVALID|MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN/);
    expect(bad.message).toContain("reject/app:2");
  }, 30_000);
});
