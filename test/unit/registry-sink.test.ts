// The registry sink (registry/sink.ts) against the real registry: what counts as "has the blob"
// (digest AND size), auth failures on HEAD surfacing instead of reading as "absent", manifests
// under every tag or by digest, and — through the whole copy pipeline — a manifest that lies about
// a layer's size never gets pushed because the registry holds a blob of that digest.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { sha256Bytes } from "../../src/core/digest.ts";
import { encodeJson } from "../../src/core/json.ts";
import type { Descriptor } from "../../src/core/manifest.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { copyImages } from "../../src/copy/pipeline.ts";
import { openOciLayoutSource } from "../../src/transports/oci-layout/index.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import type { RegistryOptions } from "../../src/transports/types.ts";
import { startCountingProxy, type CountingProxy } from "../harness/counting-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { seedImage } from "../harness/seed.ts";
import { blobOf, tinyImage, writeOciLayout } from "../harness/tiny-image.ts";
import { tempDir } from "../helpers/imgx.ts";
import { parseImageName } from "../../src/core/reference.ts";

const t = tempDir("imgx-regsink-");
let open: RunningRegistry;
let basic: RunningRegistry;
let proxy: CountingProxy;
const img = tinyImage({ seed: "registry-sink", layerBytes: 100_000 });

beforeAll(async () => {
  [open, basic] = await Promise.all([startRegistry("open"), startRegistry("basic")]);
  await seedImage(open.url, "team/app", img, ["1"]);
  proxy = startCountingProxy(open.url);
}, 30_000);
afterAll(async () => {
  proxy?.stop();
  await Promise.all([open?.stop(), basic?.stop()]);
  t.cleanup();
});

const sinkFor = (host: string, repo: string, o: RegistryOptions = {}) => openRegistrySink(parseDockerReference(`${host}/${repo}`), { plainHttp: true, retries: 0, ...o });
const manifestTags = async (repo: string) => ((await (await fetch(`${open.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] | null }).tags ?? [];

describe("hasBlob", () => {
  test("present means this digest with this size: a size claimed otherwise does not count", async () => {
    const sink = await sinkFor(open.host, "team/app:1");
    const { mediaType, digest, size } = img.layer;
    expect(await sink.hasBlob({ mediaType, digest, size })).toBe(true);
    expect(await sink.hasBlob({ mediaType, digest, size: size + 1 })).toBe(false);
    expect(await sink.hasBlob({ mediaType, digest, size: size - 1 })).toBe(false);
    expect(await sink.hasBlob({ mediaType, digest, size: 0 })).toBe(false);
    expect(await sink.hasBlob({ mediaType, digest: sha256Bytes("not stored anywhere"), size })).toBe(false);
  });

  test("a repository without the blob (another repository has it) answers false", async () => {
    expect(await (await sinkFor(open.host, "other/app:1")).hasBlob(img.layer)).toBe(false);
  });

  test("one HEAD per question, never a body fetched", async () => {
    const sink = await sinkFor(proxy.host, "team/app:1");
    proxy.reset();
    await sink.hasBlob(img.layer);
    await sink.hasBlob({ ...img.layer, size: 1 });
    const blobRequests = proxy.requests.filter((r) => r.path.includes("/blobs/"));
    expect(blobRequests.map((r) => `${r.method} ${r.status} ${r.bytesOut}`)).toEqual(["HEAD 200 0", "HEAD 200 0"]);
  });

  test("refused credentials on a basic-auth registry are UNAUTHORIZED naming the repository, not 'absent'", async () => {
    const err = await (await sinkFor(basic.host, "locked/app:1", { username: "alice", password: "not-her-password-1" })).hasBlob(img.layer).catch((e) => e);
    expect(err.code).toBe("UNAUTHORIZED");
    expect(err.message).toContain("locked/app");
    const u = basic.users[0]!;
    expect(await (await sinkFor(basic.host, "locked/app:1", { username: u.name, password: u.password })).hasBlob(img.layer)).toBe(false);
  });
});

describe("putManifest", () => {
  test("a top-level image goes under each of its tags once (full references reduced to their tag)", async () => {
    const sink = await sinkFor(proxy.host, "team/app:1");
    proxy.reset();
    await sink.putManifest(img.manifest, img.manifest.bytes, [`${proxy.host}/team/app:2`, "3", "3"].map(parseImageName), true);
    expect(proxy.requests.filter((r) => r.method === "PUT").map((r) => `${r.path} ${r.status}`)).toEqual(["/v2/team/app/manifests/2 201", "/v2/team/app/manifests/3 201"]);
    expect((await manifestTags("team/app")).sort()).toEqual(["1", "2", "3"]);
    for (const tag of ["2", "3"]) {
      const r = await fetch(`${open.url}/v2/team/app/manifests/${tag}`, { headers: { accept: img.manifest.mediaType } });
      expect(sha256Bytes(new Uint8Array(await r.arrayBuffer()))).toBe(img.manifest.digest);
    }
  });

  test("an index child, or an image without names, is stored by digest only", async () => {
    const sink = await sinkFor(open.host, "bydigest/app:x");
    for (const b of img.blobs) expect(await sink.mountBlob!(b, { registry: open.host, repository: "team/app" })).toBe(true);
    expect((await fetch(`${open.url}/v2/bydigest/app/manifests/${img.manifest.digest}`, { method: "HEAD" })).status).toBe(404);
    await sink.putManifest(img.manifest, img.manifest.bytes, ["ignored-for-a-child"].map(parseImageName), false);
    expect(await manifestTags("bydigest/app")).toEqual([]);
    const r = await fetch(`${open.url}/v2/bydigest/app/manifests/${img.manifest.digest}`, { method: "HEAD", headers: { accept: img.manifest.mediaType } });
    expect(r.status).toBe(200);
  });
});

describe("through the pipeline", () => {
  test("a manifest claiming another size for a layer the registry holds fails SIZE_MISMATCH; no tag is pushed", async () => {
    // same layer bytes (so the same digest the registry already has), but the manifest says size + 1
    const m = JSON.parse(new TextDecoder().decode(img.manifest.bytes));
    m.layers[0].size = img.layer.size + 1;
    const manifest = blobOf(img.manifest.mediaType, encodeJson(m));
    const dir = join(t.dir, "lying-layout");
    writeOciLayout(dir, { ...img, manifest }, "1");
    const source = await openOciLayoutSource(dir, "1");
    const sink = await sinkFor(open.host, "lying/app:1");
    await seedImage(open.url, "lying/app", { blobs: img.blobs, manifest: img.manifest }, ["seeded"]);
    const err = await copyImages(source, sink, { platforms: { all: false, platforms: [] }, retries: 0 }).catch((e) => e);
    expect(err.code).toBe("SIZE_MISMATCH");
    expect(err.message).toContain(img.layer.digest);
    expect(await manifestTags("lying/app")).toEqual(["seeded"]);
    const d: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
    expect((await fetch(`${open.url}/v2/lying/app/manifests/${d.digest}`, { method: "HEAD" })).status).toBe(404);
  });
});
