// Block-parallel gzip: the output is one valid multi-member gzip stream whose bytes round-trip;
// compressible blocks are deflated, incompressible ones stored.
import { expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { parallelGzipStream } from "../../src/copy/gzip-blocks.ts";

async function gzipAll(data: Uint8Array, chunk = 300_000): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      for (let o = 0; o < data.length; o += chunk) c.enqueue(data.slice(o, o + chunk));
      c.close();
    },
  });
  return new Uint8Array(await new Response(input.pipeThrough(parallelGzipStream())).arrayBuffer());
}

const text = new TextEncoder().encode(Array.from({ length: 200_000 }, (_, i) => `line ${i % 977} of a config file\n`).join(""));
// getRandomValues fills at most 64 KiB per call
const random = new Uint8Array(3 * 2 ** 20 + 12345);
for (let o = 0; o < random.length; o += 65536) crypto.getRandomValues(random.subarray(o, o + 65536));

test("text compresses well and round-trips exactly through several members", async () => {
  const gz = await gzipAll(text);
  expect(gz.length).toBeLessThan(text.length / 5);
  expect(text.length).toBeGreaterThan(2 * 2 ** 20); // so the output holds several members
  expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(text))).toBe(true);
  expect(Buffer.from(await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer()).equals(Buffer.from(text))).toBe(true);
});

test("random data is stored, not inflated beyond a few bytes per block, and round-trips", async () => {
  const gz = await gzipAll(random);
  const blocks = Math.ceil(random.length / 2 ** 20);
  expect(gz.length).toBeGreaterThanOrEqual(random.length);
  expect(gz.length).toBeLessThan(random.length + blocks * 200);
  expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(random))).toBe(true);
});

test("a block of text after a block of random data is still deflated", async () => {
  const mixed = new Uint8Array(2 ** 20 + text.length);
  mixed.set(random.subarray(0, 2 ** 20));
  mixed.set(text, 2 ** 20);
  const gz = await gzipAll(mixed);
  expect(gz.length).toBeLessThan(2 ** 20 + text.length / 5);
  expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(mixed))).toBe(true);
});

test("empty input gives a valid empty gzip stream", async () => {
  const gz = await gzipAll(new Uint8Array(0));
  expect(gunzipSync(gz).length).toBe(0);
});
