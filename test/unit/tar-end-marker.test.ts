// The tar end marker, precisely: two zero blocks, or a clean EOF right after the last entry's padding.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { isImgxError } from "../../src/core/errors.ts";
import { indexTar } from "../../src/storage/tar-index.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-tarend-");
afterAll(t.cleanup);

async function base(): Promise<Uint8Array> {
  // one entry of 5 bytes: header (512) + padded body (512), then modern-tar's end blocks
  return packTar([{ header: { name: "a", size: 5, type: "file", mtime: new Date(0) }, body: new TextEncoder().encode("hello") }]);
}
function write(name: string, bytes: Uint8Array): string {
  const path = join(t.dir, name);
  writeFileSync(path, bytes);
  return path;
}
function refuses(path: string, text: string): void {
  let err: unknown;
  try {
    indexTar(path);
  } catch (e) {
    err = e;
  }
  expect(isImgxError(err, "BAD_ARCHIVE")).toBe(true);
  expect((err as Error).message).toContain(text);
  expect((err as Error).message).toContain(path);
  expect((err as Error).message).not.toContain("\n");
}

test("two zero blocks (and any padding after them) end the archive", async () => {
  const b = await base();
  const padded = new Uint8Array(10240);
  padded.set(b.subarray(0, 1024 + 1024));
  expect(indexTar(write("two.tar", b.subarray(0, 2048))).get("a")?.size).toBe(5);
  expect(indexTar(write("padded.tar", padded)).get("a")?.size).toBe(5);
});

test("a lone zero block, at EOF or before more data, is a cut end marker", async () => {
  const b = await base();
  refuses(write("lone.tar", b.subarray(0, 1536)), "lone zero block at byte 1024");
  const half = new Uint8Array(1536 + 100);
  half.set(b.subarray(0, 1536));
  refuses(write("lone-short.tar", half), "lone zero block");
  const junk = new Uint8Array(2048);
  junk.set(b.subarray(0, 1536));
  junk.fill(7, 1536);
  refuses(write("lone-junk.tar", junk), "lone zero block");
});

test("old writers' signed-byte checksums are accepted", async () => {
  const b = Buffer.from(await base());
  // a name with a byte > 127 makes signed and unsigned sums differ
  b[1] = 0xe9;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 32 : b[i]!;
    signed += v > 127 ? v - 256 : v;
  }
  b.write(`${signed.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  const path = write("signed.tar", b);
  expect([...indexTar(path).values()][0]!.size).toBe(5);
  expect(readFileSync(path).length).toBe(b.length);
});
