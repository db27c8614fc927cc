import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { generateAll } from "../../fixtures/generate.ts";
import { IMGX, imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-localarch-");
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
beforeAll(async () => {
  requireTool("skopeo");
  await generateAll(fx);
});
afterAll(t.cleanup);

const ok = imgxOk;
async function withStdin(args: string[], stdin: Blob) {
  const proc = Bun.spawn([IMGX, ...args], { stdin, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}
const digestOf = async (ref: string) => JSON.parse((await ok(["inspect", "--json", ref])).stdout).digest as string;
/** Layer digests: the same whether the manifest is Docker's or OCI's. */
const layersOf = async (ref: string) => JSON.parse((await ok(["inspect", "--json", ref])).stdout).layers.map((l: { digest: string }) => l.digest) as string[];
const spools = () => readdirSync(tmpdir()).filter((f) => f.startsWith("imgx-spool-")).sort();

describe("local archives", () => {
  test("docker-archive:- reads standard input, plain or gzip-compressed, and leaves no spool", async () => {
    const before = spools();
    const want = await digestOf(join(fx, "legacy-save.tar"));
    const plain = await withStdin(["convert", "--quiet", "docker-archive:-", `oci:${p("from-stdin")}`], Bun.file(join(fx, "legacy-save.tar")));
    expect(plain.stderr).toBe("");
    expect(plain.code).toBe(0);
    const gz = new Blob([gzipSync(readFileSync(join(fx, "multi-save.tar")))]);
    const r = await withStdin(["convert", "--quiet", "docker-archive:-:multi/b:2", `oci:${p("from-gz-stdin")}`], gz);
    expect(r.code).toBe(0);
    expect(await layersOf(`oci:${p("from-gz-stdin")}`)).toEqual(await layersOf(`docker-archive:${join(fx, "multi-save.tar")}:multi/b:2`));
    expect((await ok(["convert", "--quiet", `oci:${p("from-stdin")}`, `docker-archive:${p("back.tar")}:imgx-demo/app:1.0`])).code).toBe(0);
    expect(await digestOf(p("back.tar"))).toBe(want);
    const bad = await withStdin(["convert", "docker-archive:-", `oci:${p("never")}`], new Blob(["not a tar"]));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('imgx: Cannot read "standard input": truncated tar header at byte 0');
    expect(existsSync(p("never"))).toBe(false);
    // no spool of ours is left (others' runs on this machine may add or remove theirs meanwhile)
    expect(spools().filter((f) => !before.includes(f))).toEqual([]);
    const out = await imgx(["convert", join(fx, "legacy-save.tar"), "docker-archive:-"]);
    expect(out.stderr).toContain("Cannot write a docker archive to standard output");
  }, 30_000);

  test("a gzip-compressed docker save is read like docker load reads it, and skopeo agrees on the result", async () => {
    await Bun.write(p("save.tar.gz"), gzipSync(readFileSync(join(fx, "docker25-save.tar"))));
    await ok(["convert", "--quiet", p("save.tar.gz"), `docker-archive:${p("plain.tar")}:demo/d25:1`]);
    const sk = JSON.parse((await run(["skopeo", "inspect", `docker-archive:${p("plain.tar")}`])).stdout);
    expect(sk.Layers.length).toBe(2);
    expect(await digestOf(p("plain.tar"))).toBe(await digestOf(join(fx, "docker25-save.tar")));
  }, 30_000);

  test("the --big generator streams a legacy save that imgx and skopeo read", async () => {
    const big = p("big.tar");
    const gen = await run([process.execPath, join(import.meta.dir, "../../fixtures/generate.ts"), "--big", "8", big]);
    expect(gen.code).toBe(0);
    const d = JSON.parse((await ok(["inspect", "--json", big])).stdout);
    expect(d.layers.length).toBe(4);
    const total = d.layers.reduce((n: number, l: { size: number }) => n + l.size, 0);
    expect(Math.abs(total - 8 * 1024 * 1024)).toBeLessThan(16 * 1024);
    await ok(["convert", "--quiet", big, `oci:${p("big-oci")}`]);
    const sk = await run(["skopeo", "inspect", `docker-archive:${big}`]);
    expect(sk.code).toBe(0);
  }, 60_000);
});
