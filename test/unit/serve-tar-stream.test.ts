// The page's reader for gzip/zstd-compressed tarballs (src/serve/page/tar-stream.js, layer-bytes.js),
// run in Bun on file blobs: the stream index agrees with the File.slice index of the plain tar, layers
// read back in order and out of order, and a cut or corrupt file gets a clear message.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { legacySave, docker25Save } from "../../fixtures/generate.ts";
import { tempDir } from "../helpers/imgx.ts";
// @ts-ignore: the page's browser module (plain JS)
import { openArchive } from "../../src/serve/page/archive.js";

const tmp = tempDir("imgx-serve-tar-stream-");
const plain = join(tmp.dir, "legacy.tar");
const d25 = join(tmp.dir, "d25.tar");
beforeAll(async () => {
  await legacySave(plain);
  await docker25Save(d25);
});
afterAll(() => tmp.cleanup());

const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

describe("page stream index (compressed tarballs)", () => {
  for (const [format, pack] of [
    ["gzip", Bun.gzipSync],
    ["zstd", Bun.zstdCompressSync],
  ] as const) {
    test(`${format}: same images and layer offsets as the plain tar; layers read back with their diff_ids`, async () => {
      for (const src of [plain, d25]) {
        const bytes = readFileSync(src);
        const packed = join(tmp.dir, `${format}-${src.split("/").pop()}.${format}`);
        await Bun.write(packed, pack(bytes));
        const a = await openArchive(Bun.file(src));
        const b = await openArchive(Bun.file(packed));
        expect(b.compression).toBe(format);
        expect(b.bytes.sequential).toBe(true);
        expect(b.bytes.size).toBeLessThanOrEqual(bytes.length);
        expect(b.images.map((i: any) => i.layers)).toEqual(a.images.map((i: any) => i.layers));
        expect(b.images.map((i: any) => new TextDecoder().decode(i.configBytes))).toEqual(a.images.map((i: any) => new TextDecoder().decode(i.configBytes)));
        const layers = b.images[0].layers;
        // in order, then backwards (decompressed again from the start), in pieces that cross the cache
        const order = [...layers.keys(), ...[...layers.keys()].reverse()];
        for (const i of order) {
          const l = layers[i];
          const half = Math.floor(l.size / 2);
          const x = await b.bytes.read(l.offset, l.offset + half + 7);
          const y = await b.bytes.read(l.offset + half, l.offset + l.size);
          const whole = new Uint8Array(l.size);
          whole.set(x.subarray(0, half));
          whole.set(y, half);
          expect(sha(whole)).toBe(l.expect);
          expect(Buffer.from(x.subarray(half))).toEqual(Buffer.from(y.subarray(0, 7)));
        }
        // each step back to an earlier layer decompressed from the start again (the last layer's
        // start was still held from reading it)
        expect(b.bytes.passes).toBe(layers.length);
        b.bytes.close();
      }
    });
  }

  test("chunked reads with read-ahead, a retry that goes back into the chunk sent, and skipped layers give the plain tar's bytes", async () => {
    const bytes = readFileSync(plain);
    const packed = join(tmp.dir, "chunks.tar.gz");
    await Bun.write(packed, Bun.gzipSync(bytes));
    const { images, bytes: src } = await openArchive(Bun.file(packed));
    const reads: [number, number][] = [];
    for (const l of images[0].layers.filter((_: unknown, i: number) => i !== 1)) {
      const c = Math.ceil(l.size / 4);
      const until = l.offset + l.size;
      for (let p = 0; p < l.size; ) {
        const end = Math.min(l.size, p + c);
        reads.push([l.offset + p, l.offset + end]);
        expect(Buffer.from(await src.read(l.offset + p, l.offset + end, until))).toEqual(bytes.subarray(l.offset + p, l.offset + end));
        // the server kept only part of that chunk: the page goes back into it, and on across the read-ahead
        const now = p + Math.floor((end - p) / 3);
        const back = Math.min(l.size, now + c);
        expect(Buffer.from(await src.read(l.offset + now, l.offset + back, until))).toEqual(bytes.subarray(l.offset + now, l.offset + back));
        p = back;
      }
    }
    expect(reads.length).toBeGreaterThan(2);
    // the reader went forward only: one decompression pass, the retries served from the chunks it holds
    expect(src.passes).toBe(1);
    src.close();
  });

  test("a cut or corrupt compressed tarball: a message naming the file, for gzip and zstd", async () => {
    const bytes = readFileSync(plain);
    const gz = Bun.gzipSync(bytes);
    const zs = Bun.zstdCompressSync(bytes);
    const cases: [string, Uint8Array, RegExp][] = [
      ["cut.tar.gz", gz.subarray(0, Math.floor(gz.length * 0.6)), /Cannot decompress \S*cut\.tar\.gz \(gzip\)|Truncated tar in \S*cut\.tar\.gz/],
      ["tail.tar.gz", gz.subarray(0, gz.length - 4), /Cannot decompress \S*tail\.tar\.gz \(gzip\)/],
      ["cut.tar.zst", zs.subarray(0, Math.floor(zs.length * 0.6)), /Cannot decompress \S*cut\.tar\.zst \(zstd\)|Truncated tar in \S*cut\.tar\.zst/],
    ];
    const flipped = Uint8Array.from(gz);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    cases.push(["flipped.tar.gz", flipped, /Cannot decompress \S*flipped\.tar\.gz \(gzip\)|Not a tar file/]);
    for (const [name, b, msg] of cases) {
      await Bun.write(join(tmp.dir, name), b);
      await expect(openArchive(Bun.file(join(tmp.dir, name)))).rejects.toThrow(msg);
    }
  });
});
