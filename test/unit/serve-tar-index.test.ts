// The page's tar reader (src/serve/page/tar-index.js), run in Bun on file blobs: long names, links,
// offsets that point at the bodies, and the errors a bad file gets.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { tempDir } from "../helpers/imgx.ts";
// @ts-ignore: the page's browser module (plain JS)
import { indexTar, resolve, sniff } from "../../src/serve/page/tar-index.js";

const tmp = tempDir("imgx-serve-tar-");
afterAll(() => tmp.cleanup());
const EPOCH = new Date(0);

async function tarFile(name: string, entries: Parameters<typeof packTar>[0]): Promise<Blob> {
  const p = join(tmp.dir, name);
  await Bun.write(p, await packTar(entries));
  return Bun.file(p);
}

describe("page tar index", () => {
  test("PAX long names, symlinks and hardlinks resolve to the bytes of their target", async () => {
    const long = `${"d".repeat(120)}/${"f".repeat(120)}.tar`;
    const body = new TextEncoder().encode("layer bytes here");
    const f = await tarFile("links.tar", [
      { header: { name: long, size: body.length, type: "file", mtime: EPOCH }, body },
      { header: { name: "abc/layer.tar", type: "symlink", linkname: `../${long}`, size: 0, mtime: EPOCH } },
      { header: { name: "hard.tar", type: "link", linkname: long, size: 0, mtime: EPOCH } },
      { header: { name: "./manifest.json", size: 2, type: "file", mtime: EPOCH }, body: new TextEncoder().encode("[]") },
    ]);
    const entries = await indexTar(f);
    for (const n of [long, "abc/layer.tar", "hard.tar"]) {
      const e = resolve(entries, n);
      expect(e.size).toBe(body.length);
      expect(new Uint8Array(await f.slice(e.offset, e.offset + e.size).arrayBuffer())).toEqual(body);
    }
    expect(entries.has("manifest.json")).toBe(true);
    // a relative symlink resolves from its own directory, not from the archive's root
    const enc = (t: string) => new TextEncoder().encode(t);
    const g = await tarFile("rel.tar", [
      { header: { name: "abc/x.tar", size: 1, type: "file", mtime: EPOCH }, body: enc("A") },
      { header: { name: "x.tar", size: 1, type: "file", mtime: EPOCH }, body: enc("B") },
      { header: { name: "abc/def/layer.tar", type: "symlink", linkname: "../x.tar", size: 0, mtime: EPOCH } },
    ]);
    const r = resolve(await indexTar(g), "abc/def/layer.tar");
    expect(r.name).toBe("abc/x.tar");
    expect(() => resolve(entries, "missing.tar")).toThrow(/no entry "missing.tar"/);
    expect(await sniff(f, resolve(entries, long).offset)).toBe("none");
  });

  test("bad files: garbage, a cut header, a link loop", async () => {
    const junk = join(tmp.dir, "junk.tar");
    await Bun.write(junk, new Uint8Array(2048).fill(7));
    await expect(indexTar(Bun.file(junk))).rejects.toThrow(/Not a tar file \(bad header checksum at byte 0\)/);
    const whole = new Uint8Array(await (await tarFile("ok.tar", [{ header: { name: "a", size: 600, type: "file", mtime: EPOCH }, body: new Uint8Array(600) }])).arrayBuffer());
    const cut = join(tmp.dir, "cut.tar");
    // the entry (header + 600 bytes) is whole; the padding and the end-of-archive blocks are not
    await Bun.write(cut, whole.subarray(0, 1024 + 100));
    await expect(indexTar(Bun.file(cut))).rejects.toThrow(/Truncated tar: it ends at byte 1124 inside the header at 1536/);
    const loop = await tarFile("loop.tar", [
      { header: { name: "a", type: "symlink", linkname: "b", size: 0, mtime: EPOCH } },
      { header: { name: "b", type: "symlink", linkname: "a", size: 0, mtime: EPOCH } },
    ]);
    const loopEntries = await indexTar(loop);
    expect(() => resolve(loopEntries, "a")).toThrow(/Too many links/);
  });
});
