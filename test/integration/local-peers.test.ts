// Library-level interop of the local transports with skopeo and umoci, beyond convert.test.ts:
// multi-image and multi-tag docker-archives both ways, umoci-made layouts, byte-exact manifests.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { copyImages } from "../../src/copy/pipeline.ts";
import { DigestCounter } from "../../src/core/digest.ts";
import { openSink, openSource } from "../../src/transports/open.ts";
import { parseTransportRef } from "../../src/transports/parse.ts";
import type { ImageSource } from "../../src/transports/types.ts";
import { requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-peers-");
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
beforeAll(async () => {
  // With CI=true (and everywhere else) a missing peer fails the run instead of skipping it.
  requireTool("skopeo");
  requireTool("umoci");
  await generateAll(fx);
});
afterAll(t.cleanup);

async function tool(cmd: string[]): Promise<string> {
  const r = await run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}
const skopeoJson = async (args: string[]) => JSON.parse(await tool(["skopeo", ...args]));

async function convert(src: string, dst: string, opts: { all?: boolean; names?: string[] } = {}) {
  const source = await openSource(parseTransportRef(src));
  try {
    const to = parseTransportRef(dst, { forWrite: true });
    const sink = await openSink(to);
    // like the CLI: a name in the destination reference names the copy, else the source's names stay
    const names = opts.names ?? (to.kind !== "docker" && to.name ? [to.name] : undefined);
    return await copyImages(source, sink, { platforms: opts.all ? { all: true } : { all: false, platforms: [{ os: "linux", architecture: "amd64" }] }, names });
  } finally {
    await source.close();
  }
}

/** Every image's manifest, config and layers stream back with the digests and sizes named. */
async function verifyAll(src: ImageSource): Promise<number> {
  let blobs = 0;
  for (const img of await src.images()) {
    const m = await src.manifest(img.descriptor);
    if (m.parsed.kind !== "manifest") continue;
    for (const d of [m.parsed.manifest.config, ...m.parsed.manifest.layers]) {
      const h = new DigestCounter();
      for await (const c of await src.blob(d)) h.update(c);
      expect({ digest: h.digest(), size: h.size }).toEqual({ digest: d.digest, size: d.size });
      blobs++;
    }
  }
  return blobs;
}

describe("local transports with skopeo and umoci", () => {
  test("skopeo selects each image of our multi-image docker-archive by name and by @N", async () => {
    const out = p("multi-out.tar");
    await convert(join(fx, "multi-save.tar"), `docker-archive:${out}`);
    const ours = await openSource(parseTransportRef(`docker-archive:${out}`));
    expect((await ours.images()).map((i) => i.names)).toEqual([["multi/a:1", "multi/a:latest"], ["multi/b:2"]]);
    for (const [sel, cmd] of [[":multi/b:2", "b"], [":docker.io/multi/a:latest", "a"], [":@1", "b"], [":@0", "a"]] as const) {
      const info = await skopeoJson(["inspect", "--config", `docker-archive:${out}${sel}`]);
      expect(info.config.Cmd).toEqual(["--serve", cmd]);
    }
    // skopeo copies one out (gzipping the layers and re-encoding the config for oci:); the
    // uncompressed layers it read are the ones we named by diff_id
    await tool(["skopeo", "copy", "-q", `docker-archive:${out}:multi/b:2`, `oci:${p("sk-b")}:b`]);
    const back = await openSource(parseTransportRef(`oci:${p("sk-b")}:b`));
    const m = (await ours.manifest((await ours.images())[1]!.descriptor)).parsed;
    const ourLayers = m.kind === "manifest" ? m.manifest.layers.map((l) => l.digest) : [];
    const skConfig = await skopeoJson(["inspect", "--config", `oci:${p("sk-b")}:b`]);
    expect(skConfig.rootfs.diff_ids).toEqual(ourLayers);
    expect(await verifyAll(back)).toBe(3);
  }, 60_000);

  test("our synthesised docker-save manifest is skopeo's byte for byte, bar skopeo's gzip label on plain tars", async () => {
    const tarPath = join(fx, "legacy-save.tar");
    const ours = await openSource(parseTransportRef(`docker-archive:${tarPath}`));
    const [img] = await ours.images();
    const mine = new TextDecoder().decode((await ours.manifest(img!.descriptor)).bytes);
    // skopeo labels docker-save's uncompressed layers ".tar.gzip" (they are compressed on push)
    const theirs = (await tool(["skopeo", "inspect", "--raw", `docker-archive:${tarPath}`])).replaceAll("rootfs.diff.tar.gzip", "rootfs.diff.tar");
    expect(mine).toBe(theirs);
  }, 30_000);

  test("skopeo's multi-tag docker-archive is one image under both names", async () => {
    const out = p("sk-tags.tar");
    await tool(["skopeo", "copy", "-q", "--additional-tag", "other/name:9", `oci:${join(fx, "single-oci")}:1.0`, `docker-archive:${out}:sk/app:1`]);
    const src = await openSource(parseTransportRef(`docker-archive:${out}`));
    const imgs = await src.images();
    expect(imgs.map((i) => i.names)).toEqual([["docker.io/sk/app:1", "docker.io/other/name:9"]]);
    expect(await verifyAll(src)).toBe(3);
    for (const name of ["other/name:9", "docker.io/sk/app:1", "sk/app:1"]) {
      const one = await openSource(parseTransportRef(`docker-archive:${out}:${name}`));
      expect((await one.images())[0]!.descriptor.digest).toBe(imgs[0]!.descriptor.digest);
    }
    // written back as one docker-archive entry with both RepoTags, in docker's short form
    await convert(`docker-archive:${out}`, `docker-archive:${p("re-tags.tar")}`);
    const saved = JSON.parse(await tool(["tar", "-xOf", p("re-tags.tar"), "manifest.json"]));
    expect(saved.map((e: { RepoTags: string[] }) => e.RepoTags)).toEqual([["sk/app:1", "other/name:9"]]);
    expect((await skopeoJson(["inspect", `docker-archive:${p("re-tags.tar")}:other/name:9`])).Layers).toHaveLength(2);
  }, 60_000);

  test("umoci's layouts read back; our layouts take umoci's edits and stay valid", async () => {
    const um = p("um");
    await tool(["umoci", "init", "--layout", um]);
    await tool(["umoci", "new", "--image", `${um}:base`]);
    mkdirSync(p("payload"));
    writeFileSync(join(p("payload"), "hello.txt"), "hello from umoci\n");
    await tool(["umoci", "insert", "--image", `${um}:base`, p("payload"), "/srv"]);
    await tool(["umoci", "config", "--image", `${um}:base`, "--config.entrypoint", "/bin/hello"]);
    const src = await openSource(parseTransportRef(`oci:${um}:base`));
    const [img] = await src.images();
    expect(img!.names).toEqual(["base"]);
    expect(await verifyAll(src)).toBe(2);
    // through a docker-archive (decompressed layer) and back into a layout umoci accepts
    await convert(`oci:${um}:base`, `docker-archive:${p("um.tar")}:um/hello:1`);
    await convert(`docker-archive:${p("um.tar")}`, `oci:${p("um-back")}`);
    const ls = (await tool(["umoci", "ls", "--layout", p("um-back")])).trim().split("\n");
    expect(ls).toEqual(["um/hello:1"]);
    await tool(["umoci", "stat", "--image", `${p("um-back")}:um/hello:1`]);
    await tool(["umoci", "config", "--image", `${p("um-back")}:um/hello:1`, "--tag", "2", "--config.cmd", "x"]);
    const edited = await openSource(parseTransportRef(`oci:${p("um-back")}:2`));
    expect(await verifyAll(edited)).toBe(2);
  }, 60_000);

  test("skopeo sees the exact manifest bytes we store, in oci-archive and multi-arch layouts", async () => {
    await convert(`oci:${join(fx, "multiarch-oci")}:1.0`, `oci-archive:${p("all.tar")}`, { all: true, names: ["1.0"] });
    const ours = await openSource(parseTransportRef(`oci-archive:${p("all.tar")}:1.0`));
    const [top] = await ours.images();
    expect(top!.descriptor.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const raw = await tool(["skopeo", "inspect", "--raw", `oci-archive:${p("all.tar")}:1.0`]);
    expect(raw).toBe(new TextDecoder().decode((await ours.manifest(top!.descriptor)).bytes));
    for (const arch of ["arm64", "arm"]) {
      const cfg = await skopeoJson(["inspect", "--override-arch", arch, "--config", `oci-archive:${p("all.tar")}:1.0`]);
      expect(cfg.architecture).toBe(arch);
    }
  }, 60_000);
});
