// A layer whose digest and size are right but whose bytes are not valid gzip: every path that
// decompresses it (convert/pull to docker-archive, push with recompression) must fail as bad data
// (exit 6, naming the blob and the source), never be retried or reported as a network error, and
// leave nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { loggedRequests } from "../harness/access-log.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { blobOf, imageOf, sha256, tinyImage, writeOciLayout, type TinyImage } from "../harness/tiny-image.ts";
import { imgx, imgxOk, requireTool, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-badgzip-");
const p = (n: string) => join(t.dir, n);
let reg: RunningRegistry;

/** The tiny image with its gzip layer replaced by `bytes` (digest and size made consistent). */
function withLayer(bytes: Uint8Array): TinyImage {
  const img = tinyImage({ seed: "bad" });
  const cfg = JSON.parse(new TextDecoder().decode(img.config.bytes));
  return imageOf(blobOf(img.layer.mediaType, bytes), { ...cfg, rootfs: { type: "layers", diff_ids: [sha256("whatever")] } });
}

const good = tinyImage({ seed: "good", layerBytes: 256 * 1024 }).layer.bytes;
const CASES = [
  // gzip magic, then garbage: inflate fails at once
  { name: "garbage after the gzip magic", img: withLayer(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, ...new TextEncoder().encode("this is not deflate data at all, sorry")])) },
  // a real gzip stream cut in the middle: unexpected end of file
  { name: "gzip cut short", img: withLayer(good.subarray(0, Math.floor(good.length / 2))) },
];

beforeAll(async () => {
  requireTool("docker-registry");
  reg = await startRegistry("open");
  for (const [i, c] of CASES.entries()) writeOciLayout(p(`src${i}`), c.img, "1");
});
afterAll(async () => {
  await reg?.stop();
  t.cleanup();
});

function expectBadData(r: { code: number; stderr: string }, layer: string, source: string): void {
  expect(r.code).toBe(6);
  expect(r.stderr).toContain(`Cannot decompress blob ${layer} from ${source}: not valid gzip data`);
  expect(r.stderr).not.toMatch(/unexpected error|Cannot connect|network/i);
  expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("imgx:"))).toHaveLength(1);
}

describe.each(CASES.map((c, i) => [c.name, i] as const))("%s", (_name, i) => {
  const img = CASES[i]!.img;
  const src = `oci:${p(`src${i}`)}:1`;

  test("convert to docker-archive: exit 6, nothing written", async () => {
    const out = p(`out${i}.tar`);
    const r = await imgx(["convert", src, `docker-archive:${out}:bad/x:1`]);
    expectBadData(r, img.layer.digest, src.slice(0, -2));
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.includes(`out${i}`))).toEqual([]);
  });

  test("pull to docker-archive: exit 6, no retry, nothing written", async () => {
    await imgxOk(["push", "--plain-http", src, `${reg.host}/bad${i}/x:1`]);
    const gets = () => loggedRequests(reg.logPath).filter((l) => l.method === "GET" && l.uri === `/v2/bad${i}/x/blobs/${img.layer.digest}`).length;
    const before = gets();
    const out = p(`pulled${i}.tar`);
    const r = await imgx(["pull", "--plain-http", "--format", "docker-archive", `${reg.host}/bad${i}/x:1`, out]);
    expectBadData(r, img.layer.digest, `docker://${reg.host}/bad${i}/x:1`);
    expect(existsSync(out)).toBe(false);
    // fetched once: bad data is not a broken connection
    await Bun.sleep(100); // the access log line is written after the response
    expect(gets() - before).toBe(1);
  });

  test("push with recompression: exit 6, not blamed on the network, no tag written", async () => {
    const r = await imgx(["push", "--plain-http", "--compress", "zstd", src, `${reg.host}/rebad${i}/x:1`]);
    expectBadData(r, img.layer.digest, src.slice(0, -2));
    const tags = await fetch(`${reg.url}/v2/rebad${i}/x/tags/list`);
    expect(tags.status).toBe(404);
  });
});
