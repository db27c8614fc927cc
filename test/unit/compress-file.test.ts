// compressFile: workers read a file range and compress it; the stream ends cleanly only when the
// bytes read are the expected digest and size, so a sink that commits on a clean end never keeps
// the compressed form of the wrong bytes.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { sha256Bytes } from "../../src/core/digest.ts";
import { blockCodec } from "../../src/copy/block-compress.ts";
import { compressFile } from "../../src/copy/gzip-blocks.ts";
import { WorkerPools } from "../../src/copy/worker-pool.ts";

const dir = mkdtempSync(join(tmpdir(), "imgx-compress-file-"));
const pools = new WorkerPools();
afterAll(() => {
  pools.close();
  rmSync(dir, { recursive: true, force: true });
});

// text that deflates, longer than several 1 MiB blocks, after a 777-byte prefix (a tar entry's offset)
const body = new TextEncoder().encode(Array.from({ length: 150_000 }, (_, i) => `entry ${i % 3001} of a layer\n`).join(""));
const prefix = new Uint8Array(777).fill(9);
const path = join(dir, "archive.tar");
writeFileSync(path, Buffer.concat([prefix, body, new Uint8Array(100)]));
const range = { path, offset: prefix.length, size: body.length };

async function collect(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

test("the range comes out as multi-member gzip of exactly those bytes, with progress for every byte", async () => {
  expect(body.length).toBeGreaterThan(3 * 2 ** 20);
  let progressed = 0;
  const gz = await collect(compressFile(range, blockCodec("gzip"), { digest: sha256Bytes(body), size: body.length }, "test layer", pools, (n) => (progressed += n)));
  expect(gz.length).toBeLessThan(body.length / 4);
  expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(body))).toBe(true);
  expect(progressed).toBe(body.length);
});

test("zstd too", async () => {
  const z = await collect(compressFile(range, blockCodec("zstd"), { digest: sha256Bytes(body), size: body.length }, "test layer", pools));
  expect(Buffer.from(Bun.zstdDecompressSync(z)).equals(Buffer.from(body))).toBe(true);
});

test("bytes that are not the expected digest end the stream with DIGEST_MISMATCH, not a clean end", async () => {
  const other = sha256Bytes(new TextEncoder().encode("something else"));
  const err = await collect(compressFile(range, blockCodec("gzip"), { digest: other, size: body.length }, "test layer", pools)).catch((e) => e);
  expect(err?.code).toBe("DIGEST_MISMATCH");
  expect(err.message).toContain("test layer");
});

test("a file shorter than its index says is SIZE_MISMATCH (truncated), not a short clean stream", async () => {
  const short = join(dir, "short.tar");
  writeFileSync(short, Buffer.concat([prefix, body.subarray(0, 2 ** 20 + 5000)]));
  const err = await collect(compressFile({ ...range, path: short }, blockCodec("gzip"), { digest: sha256Bytes(body), size: body.length }, "test layer", pools)).catch((e) => e);
  expect(err?.code).toBe("SIZE_MISMATCH");
  expect(err.message).toContain("truncated");
});

test("a file that cannot be read is an IO error naming it", async () => {
  const err = await collect(compressFile({ ...range, path: join(dir, "missing.tar") }, blockCodec("gzip"), { digest: sha256Bytes(body), size: body.length }, "test layer", pools)).catch((e) => e);
  expect(err?.code).toBe("IO");
  expect(err.message).toContain("missing.tar");
});

test("an empty blob is one empty gzip member", async () => {
  const empty = new Uint8Array(0);
  const gz = await collect(compressFile({ path, offset: 0, size: 0 }, blockCodec("gzip"), { digest: sha256Bytes(empty), size: 0 }, "empty layer", pools));
  expect(gz.length).toBeGreaterThan(0);
  expect(gunzipSync(gz).length).toBe(0);
});
