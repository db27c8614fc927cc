// --compress-level through the CLI, and layers of several 1 MiB members/frames read back by skopeo
// (Go's gzip and zstd readers): what a registry's other clients will see.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { imageConfig } from "../../fixtures/generate.ts";
import { sha256Bytes } from "../../src/core/digest.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeo } from "../harness/skopeo.ts";
import { imgx, imgxOk, requireTool, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-level-");
const p = (n: string) => join(t.dir, n);
const save = p("save.tar");
let diffId = "";
let reg: RunningRegistry;
const EPOCH = new Date(0);

/** A docker-save whose one layer holds 3.7 MiB of source-like text and 1 MiB of random bytes. */
async function writeSave(): Promise<void> {
  const text = new TextEncoder().encode(Array.from({ length: 120_000 }, (_, i) => `${i % 3 ? "int" : "char"} v${(i * 7919) % 1013} = f(${i % 89}); // line ${i}\n`).join(""));
  const random = new Uint8Array(2 ** 20);
  for (let o = 0; o < random.length; o += 65536) crypto.getRandomValues(random.subarray(o, o + 65536));
  const file = (name: string, body: Uint8Array) => ({ header: { name, size: body.length, type: "file" as const, mtime: EPOCH, mode: 0o644 }, body });
  const layer = await packTar([file("src/main.c", text), file("opt/blob.bin", random)]);
  diffId = sha256Bytes(layer);
  const config = imageConfig([diffId], { os: "linux", architecture: "amd64" }, "level");
  const cfg = `${sha256Bytes(config).slice(7)}.json`;
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  writeFileSync(save, await packTar([file("l1/layer.tar", layer), file(cfg, config), file("manifest.json", enc([{ Config: cfg, RepoTags: ["level/app:1"], Layers: ["l1/layer.tar"] }]))]));
}

beforeAll(async () => {
  requireTool("skopeo");
  requireTool("docker-registry");
  await writeSave();
  reg = await startRegistry("open");
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  t.cleanup();
});

/** Layer blob sizes in an OCI layout written by convert. */
function layerSizes(dir: string): number[] {
  const idx = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const m = JSON.parse(readFileSync(join(dir, "blobs/sha256", idx.manifests[0].digest.slice(7)), "utf8"));
  return m.layers.map((l: { size: number }) => l.size);
}

describe("--compress-level", () => {
  test("is honoured by convert: level 1 (the default) larger and level 9 smaller than level 4", async () => {
    const sizes: number[] = [];
    for (const level of [undefined, "1", "4", "9"]) {
      const out = p(`conv-${level ?? "default"}`);
      await imgxOk(["convert", "--quiet", "--compress", "gzip", ...(level ? ["--compress-level", level] : []), save, `oci:${out}`]);
      sizes.push(layerSizes(out)[0]!);
    }
    expect(sizes[0]).toBe(sizes[1]!);
    expect(sizes[1]!).toBeGreaterThan(sizes[2]!);
    expect(sizes[2]!).toBeGreaterThan(sizes[3]!);
  });

  test("bad values are one-line usage errors (exit 2) and nothing is written", async () => {
    const cases: [string[], string][] = [
      [["--compress", "gzip", "--compress-level", "13"], 'Cannot use --compress-level "13" with gzip: expected a whole number from 1 (fastest) to 12 (smallest); default 1'],
      [["--compress", "zstd", "--compress-level", "0"], 'Cannot use --compress-level "0" with zstd: expected a whole number from 1 (fastest) to 22 (smallest); default 3'],
      [["--compress", "gzip", "--compress-level", "fast"], 'Cannot use --compress-level "fast": expected a whole number (gzip 1–12, zstd 1–22)'],
      [["--compress-level", "5"], "Cannot use --compress-level 5: no layer is compressed by this copy"],
    ];
    for (const [flags, message] of cases) {
      const out = p("never");
      const r = await imgx(["convert", ...flags, save, `oci:${out}`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")[0]).toContain(message);
      expect(existsSync(out)).toBe(false);
    }
    // push gzips docker-save layers by default, so a gzip level is checked there without --compress
    const r = await imgx(["push", "--compress-level", "20", save, `${reg.host}/level/bad:1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Cannot use --compress-level "20" with gzip');
    expect((await imgx(["digest", `${reg.host}/level/bad:1`])).code).toBe(3);
  });
});

describe("multi-member layers read by skopeo", () => {
  for (const [algo, flags] of [["gzip", []], ["gzip level 6", ["--compress-level", "6"]], ["zstd", ["--compress", "zstd", "--format", "oci"]]] as const) {
    test(`push (${algo}): skopeo decompresses the whole layer back to its diff_id`, async () => {
      const ref = `${reg.host}/level/${algo.replaceAll(" ", "-")}:1`;
      await imgxOk(["push", "--quiet", ...flags, save, ref]);
      const manifest = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]));
      expect(manifest.layers[0].size).toBeGreaterThan(2 ** 20); // several 1 MiB members: the random MiB is stored
      expect(manifest.layers[0].size).toBeLessThan(2 ** 20 + 1_500_000);
      const out = p(`sk-${algo.replaceAll(" ", "-")}`);
      // dir: with --dest-decompress stores each layer decompressed by Go, named by the digest of what it read
      await skopeo(["copy", "-q", "--src-tls-verify=false", "--dest-decompress", `docker://${ref}`, `dir:${out}`]);
      expect(readdirSync(out)).toContain(diffId.slice(7));
      expect(statSync(join(out, diffId.slice(7))).size).toBeGreaterThan(4 * 2 ** 20);
    });
  }

  test("registry → registry recompression (gzip → zstd level 5 and back to gzip level 6): skopeo reads each to the diff_id", async () => {
    const src = `${reg.host}/level/gzip:1`;
    await imgxOk(["push", "--quiet", save, src]);
    for (const [name, flags] of [["zstd5", ["--compress", "zstd", "--compress-level", "5", "--format", "oci"]], ["gzip6", ["--compress", "gzip", "--compress-level", "6"]]] as const) {
      const dst = `${reg.host}/level/copy-${name}:1`;
      await imgxOk(["copy", "--quiet", ...flags, name === "gzip6" ? `${reg.host}/level/copy-zstd5:1` : src, dst]);
      const manifest = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${dst}`]));
      expect(manifest.layers[0].mediaType).toEndWith(name === "zstd5" ? "+zstd" : "gzip");
      const out = p(`sk-copy-${name}`);
      await skopeo(["copy", "-q", "--src-tls-verify=false", "--dest-decompress", `docker://${dst}`, `dir:${out}`]);
      expect(readdirSync(out)).toContain(diffId.slice(7));
    }
  });
});
