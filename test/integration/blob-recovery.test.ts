// What the README promises about damaged and interrupted downloads, checked on the compiled CLI
// against the real registry behind the counting proxy: "A blob that fails verification is fetched
// again once from scratch, then the command fails" (exit 6), and an interrupted pull resumes — with
// a Range request, or from scratch when the registry ignores Range — into a verified blob.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startCountingProxy, type CountingProxy, type FaultAction } from "../harness/counting-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { seedImage } from "../harness/seed.ts";
import { tinyImage } from "../harness/tiny-image.ts";
import { imgx, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-recovery-");
let reg: RunningRegistry;
let proxy: CountingProxy;
const img = tinyImage({ seed: "blob-recovery", layerBytes: 2 * 1024 * 1024 });
const layerPath = `/v2/team/app/blobs/${img.layer.digest}`;
const layerGets = () => proxy.requests.filter((r) => r.method === "GET" && r.path === layerPath);
const ref = () => `${proxy.host}/team/app:1`;

beforeAll(async () => {
  reg = await startRegistry("open");
  await seedImage(reg.url, "team/app", img, ["1"]);
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

function onLayerGet(f: (nth: number) => FaultAction | undefined) {
  let nth = 0;
  proxy.setFault((r) => (r.method === "GET" && r.path === layerPath ? f(++nth) : undefined));
}
const layerFile = (dest: string) => join(dest, "blobs", "sha256", img.layer.digest.slice(7));
const sha = (p: string) => `sha256:${new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex")}`;
/** The pulled layout holds the seeded image: index names its manifest, every blob hashes to its name. */
function assertPulled(dest: string) {
  const index = JSON.parse(readFileSync(join(dest, "index.json"), "utf8"));
  expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([img.manifest.digest]);
  const blobs = readdirSync(join(dest, "blobs", "sha256"));
  expect(blobs.sort()).toEqual([img.layer, img.config, img.manifest].map((b) => b.digest.slice(7)).sort());
  for (const b of blobs) expect(sha(join(dest, "blobs", "sha256", b))).toBe(`sha256:${b}`);
}

describe("a blob that fails verification", () => {
  test("one flipped byte in the first GET: the pull succeeds after exactly 2 GETs of that blob", async () => {
    onLayerGet((n) => (n === 1 ? { kind: "flip", at: 1_000_000 } : undefined));
    const dest = join(t.dir, "flip-once");
    const r = await imgx(["pull", "-q", "--plain-http", ref(), dest]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(layerGets().length).toBe(2);
    assertPulled(dest);
  }, 30_000);

  test("flipped in every GET: exit 6 after exactly 2 GETs, one line naming the blob, nothing left behind", async () => {
    onLayerGet(() => ({ kind: "flip", at: 4096 }));
    const dest = join(t.dir, "flip-always");
    const r = await imgx(["pull", "-q", "--plain-http", "--retries", "5", ref(), dest]);
    expect(r.code).toBe(6);
    expect(layerGets().length).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(img.layer.digest);
    expect(existsSync(dest)).toBe(false);
  }, 30_000);
});

describe("an interrupted pull, rerun", () => {
  /** A first run cut mid-layer (no retries): exit 5 and a `<hex>.partial` left to resume from. */
  async function interrupted(name: string): Promise<{ dest: string; kept: number }> {
    onLayerGet(() => ({ kind: "reset", afterBytes: 1_200_000 }));
    const dest = join(t.dir, name);
    const first = await imgx(["pull", "-q", "--plain-http", "--retries", "0", ref(), dest]);
    expect(first.code).toBe(5);
    const kept = statSync(`${layerFile(dest)}.partial`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(img.layer.size);
    proxy.reset();
    proxy.setFault(undefined);
    return { dest, kept };
  }

  test("the registry honours Range: one closed-range GET for the rest, only the rest sent", async () => {
    const { dest, kept } = await interrupted("resume-range");
    const r = await imgx(["pull", "-q", "--plain-http", ref(), dest]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const gets = layerGets();
    expect(gets.map((g) => [g.headers.range, g.status, g.bytesOut])).toEqual([[`bytes=${kept}-${img.layer.size - 1}`, 206, img.layer.size - kept]]);
    expect(existsSync(`${layerFile(dest)}.partial`)).toBe(false);
    assertPulled(dest);
  }, 30_000);

  test("the registry ignores Range (200 with the whole blob): the pull starts that blob over and completes verified", async () => {
    const { dest } = await interrupted("resume-norange");
    onLayerGet(() => ({ kind: "ignore-range" }));
    const r = await imgx(["pull", "--json", "--plain-http", ref(), dest]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(layerGets().map((g) => [g.headers.range !== undefined, g.status])).toEqual([
      [true, 200],
      [false, 200],
    ]);
    // started once: the 200 body was given up, never appended to the partial as if it were the rest
    // (that would fail verification and only the one re-fetch would save the pull)
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === "blob-start" && e.digest === img.layer.digest)).toHaveLength(1);
    expect(existsSync(`${layerFile(dest)}.partial`)).toBe(false);
    assertPulled(dest);
  }, 30_000);
});
