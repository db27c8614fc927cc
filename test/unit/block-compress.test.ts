// The block compressor: level choice and validation, and that the streams it makes (many members /
// frames) are read whole by the system's gzip and zstd, not only by our own decoder.
import { describe, expect, test } from "bun:test";
import { blockCodec, compressBlock, DEFAULT_LEVEL, LEVELS } from "../../src/copy/block-compress.ts";
import { parallelCompressStream } from "../../src/copy/gzip-blocks.ts";
import { isImgxError } from "../../src/core/errors.ts";

const MiB = 2 ** 20;
// text that compresses like source files do, 3.7 MiB: several 1 MiB blocks and a short last one
const text = new TextEncoder().encode(Array.from({ length: 120_000 }, (_, i) => `${i % 3 ? "int" : "char"} v${(i * 7919) % 1013} = f(${i % 89}); // line ${i}\n`).join(""));

async function throughStream(data: Uint8Array, ts: TransformStream<Uint8Array, Uint8Array>, chunk = 250_000): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < data.length; o += chunk) c.enqueue(data.slice(o, o + chunk));
      c.close();
    },
  });
  return new Uint8Array(await new Response(input.pipeThrough(ts)).arrayBuffer());
}

/** Decompresses with the system's binary (gzip -dc / zstd -dc), which reads every member or frame. */
async function systemDecompress(tool: "gzip" | "zstd", data: Uint8Array): Promise<Uint8Array> {
  const p = Bun.spawn([tool, "-dc"], { stdin: new Blob([data as Uint8Array<ArrayBuffer>]), stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${tool} -dc failed: ${err}`);
  return new Uint8Array(out);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("level choice", () => {
  test("defaults: gzip through libdeflate at the measured level, zstd at 3", () => {
    expect(blockCodec("gzip")).toEqual({ algo: "gzip", level: DEFAULT_LEVEL.gzip, library: "libdeflate" });
    expect(DEFAULT_LEVEL.gzip).toBe(1);
    expect(blockCodec("zstd")).toEqual({ algo: "zstd", level: 3, library: undefined });
    expect(blockCodec("gzip", 9).level).toBe(9);
    expect(blockCodec("zstd", 19).level).toBe(19);
  });

  test("a level the compressor lacks is a usage error naming the flag and the range", () => {
    for (const [algo, bad] of [["gzip", 0], ["gzip", 13], ["gzip", 2.5], ["zstd", 0], ["zstd", 23]] as const) {
      let err: unknown;
      try {
        blockCodec(algo, bad);
      } catch (e) {
        err = e;
      }
      expect(isImgxError(err, "USAGE")).toBe(true);
      const { min, max } = LEVELS[algo];
      expect((err as Error).message).toBe(`Cannot use --compress-level "${bad}" with ${algo}: expected a whole number from ${min} (fastest) to ${max} (smallest); default ${DEFAULT_LEVEL[algo]}`);
    }
  });

  test("the level is honoured: a higher gzip or zstd level gives a smaller block", () => {
    const block = text.subarray(0, MiB);
    const gz = [1, 6, 12].map((level) => compressBlock(block, blockCodec("gzip", level)).length);
    expect(gz[0]!).toBeGreaterThan(gz[1]!);
    expect(gz[1]!).toBeGreaterThan(gz[2]!);
    const zs = [1, 19].map((level) => compressBlock(block, blockCodec("zstd", level)).length);
    expect(zs[0]!).toBeGreaterThan(zs[1]!);
  });
});

describe("multi-member streams", () => {
  test("gzip: the worker threads run the very compressBlock (output = its blocks, concatenated), read whole by gzip -d", async () => {
    const codec = blockCodec("gzip", 4);
    const gz = await throughStream(text, parallelCompressStream(codec));
    const expected: Uint8Array[] = [];
    for (let o = 0; o < text.length; o += MiB) expected.push(compressBlock(text.slice(o, o + MiB), codec));
    expect(same(gz, Buffer.concat(expected))).toBe(true);
    expect(expected.length).toBe(4);
    expect(same(await systemDecompress("gzip", gz), text)).toBe(true);
    expect(gz.length).toBeLessThan(text.length / 4);
  });

  test("zstd: frames per block, read whole by zstd -d and DecompressionStream", async () => {
    const zs = await throughStream(text, parallelCompressStream(blockCodec("zstd")));
    expect(same(await systemDecompress("zstd", zs), text)).toBe(true);
    const back = await new Response(new Blob([zs]).stream().pipeThrough(new DecompressionStream("zstd" as "gzip"))).arrayBuffer();
    expect(same(new Uint8Array(back), text)).toBe(true);
    expect(zs.length).toBeLessThan(text.length / 4);
  });

  test("an incompressible gzip block is stored: a few bytes over its size, and round-trips", () => {
    const random = new Uint8Array(MiB);
    for (let o = 0; o < random.length; o += 65536) crypto.getRandomValues(random.subarray(o, o + 65536));
    const out = compressBlock(random, blockCodec("gzip", 6));
    expect(out.length).toBeGreaterThanOrEqual(random.length);
    expect(out.length).toBeLessThan(random.length + 200);
    expect(same(Bun.gunzipSync(out as Uint8Array<ArrayBuffer>), random)).toBe(true);
  });
});
