// Docker schema 1 from a real registry: distribution 2.8 with compatibility.schema1.enabled,
// images pushed by `skopeo copy --format v2s1` and `podman push --format v2s1`. distribution
// re-signs schema 1 on every GET, so imgx must verify the canonical payload, and convert the image
// as skopeo does: the same config digests (hence diff_ids and image IDs) as skopeo's conversion.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { layerTar, legacySave } from "../../fixtures/generate.ts";
import { sha256Bytes } from "../../src/core/digest.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-schema1-");
const p = (n: string) => join(t.dir, n);
const ROOT = process.getuid?.() === 0;
let reg: RunningRegistry;
// what each image is called in the tests, and the repository it is pushed to
const IMAGES = [
  { name: "skopeo-legacy", repo: "s1/legacy" },
  { name: "skopeo-empty-layers", repo: "s1/empty" },
  ...(ROOT ? [{ name: "podman-empty-layers", repo: "s1/podman" }] : []),
];

/** A docker-save whose history has empty layers between real ones (they become schema 1 `throwaway` layers). */
async function withEmptyLayers(path: string): Promise<void> {
  const layers = [await layerTar(7, "base"), await layerTar(8, "app")];
  const at = (created_by: string, empty_layer?: boolean) => ({ created: "2024-02-03T04:05:06Z", created_by, ...(empty_layer ? { empty_layer } : {}) });
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "arm64",
      variant: "v8",
      os: "linux",
      created: "2024-02-03T04:05:06Z",
      author: "imgx <tests@example.invalid>",
      config: { Env: ["A=<b>&c"], Cmd: ["/app"], Labels: { z: "1", a: "2" }, ExposedPorts: { "80/tcp": {} } },
      rootfs: { type: "layers", diff_ids: layers.map((l) => sha256Bytes(l)) },
      history: [at("ADD base /"), at("ENV A=<b>&c", true), at("COPY app /app"), at('CMD ["/app"]', true)],
    }),
  );
  const entries = [
    { name: "l0.tar", body: layers[0]! },
    { name: "l1.tar", body: layers[1]! },
    { name: "config.json", body: config },
    { name: "manifest.json", body: new TextEncoder().encode(JSON.stringify([{ Config: "config.json", RepoTags: ["s1/empty:1"], Layers: ["l0.tar", "l1.tar"] }])) },
  ];
  writeFileSync(path, await packTar(entries.map((e) => ({ header: { name: e.name, size: e.body.length, type: "file" as const, mtime: new Date(0) }, body: e.body }))));
}

async function ok(cmd: string[]): Promise<string> {
  const r = await run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));
/** The image manifest a layout's first entry points to. */
const layoutManifest = (dir: string) => json(join(dir, "blobs/sha256", json(join(dir, "index.json")).manifests[0].digest.slice(7)));

beforeAll(async () => {
  requireTool("skopeo");
  reg = await startRegistry("open", { schema1: true });
  await legacySave(p("legacy.tar"));
  await withEmptyLayers(p("empty.tar"));
  for (const [name, file] of [["s1/legacy", "legacy.tar"], ["s1/empty", "empty.tar"]] as const) {
    await ok(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--format", "v2s1", `docker-archive:${p(file)}`, `docker://${reg.host}/${name}:1`]);
  }
  if (ROOT) {
    // podman (rootful, vfs, its own storage under the temp dir) pushes the image with empty layers as schema 1
    requireTool("podman");
    const podman = ["podman", "--root", p("podman/root"), "--runroot", p("podman/run"), "--storage-driver", "vfs", "--events-backend", "none"];
    const loaded = /Loaded image: (\S+)/.exec(await ok([...podman, "load", "-i", p("empty.tar")]))?.[1];
    if (!loaded) throw new Error("podman load named no image");
    await ok([...podman, "push", "-q", "--tls-verify=false", "--format", "v2s1", loaded, `docker://${reg.host}/s1/podman:1`]);
  } else console.warn("schema1.test.ts: podman push --format v2s1 NOT RUN — rootful podman needs root");
});
afterAll(async () => {
  await reg?.stop();
  t.cleanup();
});

test("the registry really serves schema 1, re-signed on every GET", async () => {
  const get = () => fetch(`${reg.url}/v2/s1/legacy/manifests/1`, { headers: { accept: "application/vnd.docker.distribution.manifest.v1+prettyjws" } });
  const [a, b] = [await get(), await get()];
  expect(a.headers.get("content-type")).toBe("application/vnd.docker.distribution.manifest.v1+prettyjws");
  expect(a.headers.get("docker-content-digest")).toBe(b.headers.get("docker-content-digest")!);
  expect(sha256Bytes(new Uint8Array(await a.arrayBuffer()))).not.toBe(a.headers.get("docker-content-digest"));
  await b.body?.cancel();
});

describe.each(IMAGES.map((i) => [i.name, i] as const))("%s", (_name, image) => {
  const img = { name: image.name, get ref() { return `${reg.host}/${image.repo}:1`; } };
  test("inspect and digest: the payload digest the registry names; layers without the empty ones", async () => {
    const head = await fetch(`${reg.url}/v2/${image.repo}/manifests/1`, { method: "HEAD", headers: { accept: "application/vnd.docker.distribution.manifest.v1+prettyjws" } });
    const digest = head.headers.get("docker-content-digest")!;
    expect((await imgxOk(["digest", "--plain-http", img.ref])).stdout.trim()).toContain(digest);
    const ins = JSON.parse((await imgxOk(["inspect", "--json", "--plain-http", img.ref])).stdout);
    expect(ins.digest).toBe(digest);
    expect(ins.schema1.signed).toBe(true);
    const sk = JSON.parse(await ok(["skopeo", "inspect", "--tls-verify=false", `docker://${img.ref}`]));
    expect(ins.digest).toBe(sk.Digest);
    // skopeo lists schema 1's empty (throwaway) layers too: the 32-byte empty gzip tar
    const EMPTY = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
    expect(ins.layers.map((l: { digest: string }) => l.digest)).toEqual(sk.Layers.filter((d: string) => d !== EMPTY));
    // by digest too
    await imgxOk(["inspect", "--plain-http", `${img.ref.replace(/:1$/, "")}@${digest}`]);
    const cfg = await imgx(["inspect", "--config", "--plain-http", img.ref]);
    expect(cfg.code).toBe(6);
    expect(cfg.stderr).toContain("a Docker schema 1 image has none");
  });

  test("pull to an OCI layout: the config skopeo synthesises, byte for byte", async () => {
    const [i, s] = [p(`${img.name}-oci-imgx`), p(`${img.name}-oci-skopeo`)];
    await imgxOk(["pull", "-q", "--plain-http", img.ref, i]);
    await ok(["skopeo", "copy", "-q", "--src-tls-verify=false", `docker://${img.ref}`, `oci:${s}:x`]);
    const [mi, ms] = [layoutManifest(i), layoutManifest(s)];
    expect(mi.config.digest).toBe(ms.config.digest);
    expect(mi.layers).toEqual(ms.layers);
    await imgxOk(["convert", "-q", `oci:${i}`, `oci:${p(`${img.name}-oci-again`)}`]); // and it reads back
    // again into the same layout: the layers are there (not copied), their diff_ids read once more
    await imgxOk(["pull", "-q", "--plain-http", img.ref, i]);
    expect(layoutManifest(i).config.digest).toBe(ms.config.digest);
  });

  test("copy to a registry as schema 2 and pull to docker-archive: skopeo's v2s2 config and diff_ids", async () => {
    const s = p(`${img.name}-v2s2-skopeo`);
    await ok(["skopeo", "copy", "-q", "--src-tls-verify=false", "--format", "v2s2", `docker://${img.ref}`, `dir:${s}`]);
    const sk = json(join(s, "manifest.json"));
    const dst = `${reg.host}/converted/${img.name.replace(/[^a-z0-9]+/g, "-")}:1`;
    await imgxOk(["copy", "-q", "--plain-http", img.ref, dst]);
    const raw = JSON.parse((await imgxOk(["inspect", "--raw", "--plain-http", dst])).stdout);
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(raw.config.digest).toBe(sk.config.digest);
    const tar = p(`${img.name}.tar`);
    await imgxOk(["pull", "-q", "--plain-http", "--format", "docker-archive", img.ref, tar]);
    const config = JSON.parse((await run(["tar", "-xOf", tar, `blobs/sha256/${sk.config.digest.slice(7)}`])).stdout);
    expect(config.rootfs.diff_ids).toEqual(JSON.parse(readFileSync(join(s, sk.config.digest.slice(7)), "utf8")).rootfs.diff_ids);
  });
});

test("empty layers: dropped from the layers, kept as empty_layer history, as skopeo does", async () => {
  const i = p("empty-check");
  await imgxOk(["pull", "-q", "--plain-http", `${reg.host}/s1/empty:1`, i]);
  const m = layoutManifest(i);
  expect(m.layers).toHaveLength(2);
  const config = json(join(i, "blobs/sha256", m.config.digest.slice(7)));
  expect(config.history.map((h: { empty_layer?: boolean }) => !!h.empty_layer)).toEqual([false, true, false, true]);
  expect(config.architecture).toBe("arm64");
});

test("recompressed on the way (--compress zstd): same config, zstd layers whose content is the diff_ids", async () => {
  const [z, s] = [p("zstd"), p("empty-oci-skopeo")];
  await imgxOk(["copy", "-q", "--plain-http", "--compress", "zstd", `${reg.host}/s1/empty:1`, `oci:${z}`]);
  await ok(["skopeo", "copy", "-q", "--src-tls-verify=false", `docker://${reg.host}/s1/empty:1`, `oci:${s}:x`]);
  const m = layoutManifest(z);
  expect(m.config.digest).toBe(layoutManifest(s).config.digest);
  expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(["application/vnd.oci.image.layer.v1.tar+zstd", "application/vnd.oci.image.layer.v1.tar+zstd"]);
  const config = json(join(z, "blobs/sha256", m.config.digest.slice(7)));
  for (const [i, l] of (m.layers as { digest: string }[]).entries()) {
    const plain = Bun.zstdDecompressSync(readFileSync(join(z, "blobs/sha256", l.digest.slice(7))));
    expect(sha256Bytes(plain)).toBe(config.rootfs.diff_ids[i]);
  }
});

test("schema 1 is never written: --format v2s1 is refused with a reason", async () => {
  const r = await imgx(["copy", "--plain-http", "--format", "v2s1", `${reg.host}/s1/legacy:1`, `${reg.host}/s1/again:1`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("imgx does not write Docker schema 1");
});
