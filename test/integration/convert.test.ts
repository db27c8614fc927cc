import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir();
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
beforeAll(async () => {
  requireTool("skopeo");
  requireTool("umoci");
  await generateAll(fx);
});
afterAll(t.cleanup);

const ok = imgxOk;
async function inspectJson(ref: string, extra: string[] = []) {
  return JSON.parse((await ok(["inspect", "--json", ...extra, ref])).stdout);
}
async function rawManifest(ref: string) {
  return (await ok(["inspect", "--raw", ref])).stdout;
}
async function skopeo(args: string[]) {
  const r = await run(["skopeo", ...args]);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

describe("convert", () => {
  test("legacy docker-save → OCI → docker-save → OCI gives identical manifests", async () => {
    await ok(["convert", join(fx, "legacy-save.tar"), `oci:${p("rt1")}`]);
    await ok(["convert", `oci:${p("rt1")}`, `docker-archive:${p("rt.tar")}:demo/app:1`]);
    await ok(["convert", p("rt.tar"), `oci:${p("rt2")}`]);
    expect(await rawManifest(`oci:${p("rt2")}`)).toBe(await rawManifest(`oci:${p("rt1")}`));
    const a = await inspectJson(join(fx, "legacy-save.tar"));
    const b = await inspectJson(p("rt.tar"));
    expect(b.layers.map((l: { digest: string }) => l.digest)).toEqual(a.layers.map((l: { digest: string }) => l.digest));
    expect(b.names).toEqual(["demo/app:1"]);
  }, 30_000);

  test("skopeo reads every output format and umoci validates our layouts", async () => {
    await ok(["convert", join(fx, "legacy-save.tar"), `oci:${p("sk-oci")}:v1`]);
    await ok(["convert", join(fx, "docker25-save.tar"), `oci-archive:${p("sk.oci.tar")}:v2`]);
    await ok(["convert", `oci:${join(fx, "single-oci")}:1.0`, `docker-archive:${p("sk-docker.tar")}:sk/app:3`]);
    const ociDigest = JSON.parse(await skopeo(["inspect", `oci:${p("sk-oci")}:v1`])).Digest;
    expect(ociDigest).toBe((await inspectJson(`oci:${p("sk-oci")}:v1`)).digest);
    expect(JSON.parse(await skopeo(["inspect", `oci-archive:${p("sk.oci.tar")}:v2`])).Layers.length).toBe(2);
    expect(JSON.parse(await skopeo(["inspect", `docker-archive:${p("sk-docker.tar")}`])).Layers.length).toBe(2);
    // skopeo copies out of each of them, and the layers survive
    await skopeo(["copy", `oci:${p("sk-oci")}:v1`, `oci:${p("sk-copy1")}:x`]);
    await skopeo(["copy", `oci-archive:${p("sk.oci.tar")}:v2`, `oci:${p("sk-copy2")}:x`]);
    await skopeo(["copy", `docker-archive:${p("sk-docker.tar")}`, `oci:${p("sk-copy3")}:x`]);
    for (const [dir, tag] of [[p("sk-oci"), "v1"], [p("sk-copy3"), "x"]] as const) {
      const r = await run(["umoci", "stat", "--image", `${dir}:${tag}`]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
    }
    await ok(["convert", join(fx, "multi-save.tar"), `oci:${p("umoci-multi")}`]);
    const ls = await run(["umoci", "ls", "--layout", p("umoci-multi")]);
    expect(ls.stdout.split("\n").filter(Boolean).sort()).toEqual(["multi/a:1", "multi/a:latest", "multi/b:2"]);
  }, 60_000);

  test("we read what skopeo writes in all three formats", async () => {
    const src = `oci:${join(fx, "single-oci")}:1.0`;
    await skopeo(["copy", src, `oci:${p("from-sk")}:t`]);
    await skopeo(["copy", src, `oci-archive:${p("from-sk.tar")}:t`]);
    await skopeo(["copy", src, `docker-archive:${p("from-sk-docker.tar")}:sk/app:1`]);
    const want = (await inspectJson(src)).config;
    for (const ref of [`oci:${p("from-sk")}:t`, `oci-archive:${p("from-sk.tar")}`, p("from-sk-docker.tar")]) {
      const d = await inspectJson(ref);
      expect(d.config.cmd).toEqual(want.cmd);
      await ok(["convert", ref, `oci:${p(`back-${Math.random().toString(36).slice(2)}`)}`]);
    }
    const skDigest = JSON.parse(await skopeo(["inspect", `oci:${p("from-sk")}:t`])).Digest;
    expect((await inspectJson(`oci:${p("from-sk")}:t`)).digest).toBe(skDigest);
  }, 60_000);

  test("Docker 25+ and multi-image docker-save tarballs", async () => {
    const d25 = await inspectJson(join(fx, "docker25-save.tar"));
    expect(d25.names).toEqual(["imgx-demo/app25:1.0"]);
    const r = await ok(["convert", join(fx, "multi-save.tar"), `oci:${p("multi")}`]);
    expect(r.stdout.trim().split("\n").length).toBe(2);
    const two = await imgx(["convert", join(fx, "multi-save.tar"), `docker-archive:${p("one.tar")}:only/b:2`]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("name one of multi/a:1, multi/b:2");
    await ok(["convert", `docker-archive:${join(fx, "multi-save.tar")}:multi/b:2`, `oci:${p("just-b")}`]);
    expect((await inspectJson(`oci:${p("just-b")}`)).config.cmd).toEqual(["--serve", "b"]);
    await ok(["convert", `docker-archive:${join(fx, "multi-save.tar")}:@0`, `oci:${p("just-a")}:a`]);
    expect((await inspectJson(`oci:${p("just-a")}:a`)).config.cmd).toEqual(["--serve", "a"]);
  }, 30_000);

  test("multi-arch: --platform selects, --all-platforms keeps the index, the error lists platforms", async () => {
    const src = `oci:${join(fx, "multiarch-oci")}:1.0`;
    await ok(["convert", "--platform", "linux/arm64", src, `oci:${p("arm64")}`]);
    expect((await inspectJson(`oci:${p("arm64")}`)).config.architecture).toBe("arm64");
    await ok(["convert", "--platform", "linux/arm", src, `docker-archive:${p("armv7.tar")}:x/arm:1`]);
    expect((await inspectJson(p("armv7.tar"))).config.variant).toBe("v7");
    await ok(["convert", "--all-platforms", src, `oci-archive:${p("all.tar")}`]);
    const all = await inspectJson(`oci-archive:${p("all.tar")}`, ["--all-platforms"]);
    expect(all.platforms.map((x: { platform: string }) => x.platform)).toEqual(["linux/amd64", "linux/arm64", "linux/arm/v7"]);
    expect(all.digest).toBe((await inspectJson(src, ["--all-platforms"])).digest);
    const two = await ok(["convert", "--platform", "linux/amd64,linux/arm64", src, `oci:${p("two")}`]);
    expect(two.code).toBe(0);
    expect((await inspectJson(`oci:${p("two")}`, ["--all-platforms"])).platforms.length).toBe(2);
    const bad = await imgx(["convert", "--platform", "linux/s390x", src, `oci:${p("none")}`]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("available: linux/amd64, linux/arm64, linux/arm/v7");
    expect(existsSync(p("none"))).toBe(false);
    const idx = await imgx(["convert", "--all-platforms", src, `docker-archive:${p("idx.tar")}`]);
    expect(idx.code).not.toBe(0);
    expect(idx.stderr).toContain("one image per name");
    expect(existsSync(p("idx.tar"))).toBe(false);
  }, 60_000);

  test("--compress gzip/zstd recompresses and keeps diff_ids; --tag stays a string", async () => {
    await ok(["convert", "--compress", "zstd", "--tag", "1.10", join(fx, "legacy-save.tar"), `oci:${p("zst")}`]);
    const d = await inspectJson(`oci:${p("zst")}:1.10`);
    expect(d.layers.every((l: { mediaType: string }) => l.mediaType.endsWith("+zstd"))).toBe(true);
    expect(readFileSync(join(p("zst"), "index.json"), "utf8")).toContain('"1.10"');
    await ok(["convert", `oci:${p("zst")}:1.10`, `docker-archive:${p("unz.tar")}:a/b:c`]);
    const back = await inspectJson(p("unz.tar"));
    const orig = await inspectJson(join(fx, "legacy-save.tar"));
    expect(back.layers.map((l: { digest: string }) => l.digest)).toEqual(orig.layers.map((l: { digest: string }) => l.digest));
  }, 30_000);

  test("inspect --raw prints the exact bytes", async () => {
    const r = await ok(["inspect", "--raw", `oci:${join(fx, "single-oci")}:1.0`]);
    const idx = JSON.parse(readFileSync(join(fx, "single-oci", "index.json"), "utf8"));
    const blob = readFileSync(join(fx, "single-oci", "blobs", "sha256", idx.manifests[0].digest.slice(7)), "utf8");
    expect(r.stdout).toBe(blob);
  });
});
