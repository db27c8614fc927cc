import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { isImgxError } from "../../src/core/errors.ts";
import { TarTree } from "../../src/storage/file-tree.ts";
import { indexTar, resolveEntry } from "../../src/storage/tar-index.ts";
import { run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-tarindex-");
afterAll(t.cleanup);
const p = (n: string) => join(t.dir, n);

type E = { name: string; body?: string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string };
async function tar(name: string, entries: E[]): Promise<string> {
  const bytes = await packTar(
    entries.map((e) => {
      const b = e.body === undefined ? undefined : new TextEncoder().encode(e.body);
      return { header: { name: e.name, size: b?.length ?? 0, type: e.type ?? "file", linkname: e.linkname, mtime: new Date(0) }, body: b };
    }),
  );
  writeFileSync(p(name), bytes);
  return p(name);
}

function fails(fn: () => unknown, text: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isImgxError(err, "BAD_ARCHIVE")).toBe(true);
  expect((err as Error).message).toContain(text);
  expect((err as Error).message.split("\n").length).toBe(1);
}

/** GNU tar writes the header variants we must understand (longname L/K, PAX x/g, ustar prefix). */
async function gnuTar(format: string, name: string): Promise<{ path: string; longDir: string; longFile: string }> {
  const src = p(`src-${format}`);
  const longDir = `${"d".repeat(60)}/${"e".repeat(60)}`;
  const longFile = `${longDir}/${"f".repeat(90)}.txt`;
  mkdirSync(join(src, longDir), { recursive: true });
  writeFileSync(join(src, longFile), "long name body\n");
  writeFileSync(join(src, "short.txt"), "short\n");
  symlinkSync(`${"f".repeat(90)}.txt`, join(src, longDir, `link-${"g".repeat(100)}`));
  const out = p(name);
  const r = await run(["tar", `--format=${format}`, "-C", src, "-cf", out, "short.txt", longDir]);
  // ustar can't hold the 105-character link name: GNU tar skips just that one and says so
  if (format !== "ustar") expect(r.stderr).toBe("");
  return { path: out, longDir, longFile };
}

/** One raw ustar header block with a valid checksum, for headers no tar tool would write. */
function header(name: string, size: number, type: string): Uint8Array {
  const h = new Uint8Array(512);
  const put = (off: number, v: string) => h.set(new TextEncoder().encode(v), off);
  put(0, name);
  put(100, "0000644\0");
  put(124, `${size.toString(8).padStart(11, "0")}\0`);
  put(156, type);
  put(257, "ustar\0" + "00");
  h.fill(32, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}
function paxTar(records: string, body = "x"): Uint8Array {
  const rec = new TextEncoder().encode(records);
  const pad = (n: number) => new Uint8Array(Math.ceil(n / 512) * 512);
  const parts = [header("PaxHeader", rec.length, "x"), pad(rec.length), header("f", body.length, "0"), pad(body.length), new Uint8Array(1024)];
  parts[1]!.set(rec);
  parts[3]!.set(new TextEncoder().encode(body));
  return Buffer.concat(parts);
}
const paxRecord = (k: string, v: string) => {
  const core = ` ${k}=${v}\n`;
  let len = core.length + 1;
  while (`${len}${core}`.length !== len) len++;
  return `${len}${core}`;
};

describe("indexTar", () => {
  test("PAX path and size records override the header; malformed or escaping ones are refused", () => {
    writeFileSync(p("pax-ok.tar"), paxTar(paxRecord("path", "dir/renamed.txt")));
    expect([...indexTar(p("pax-ok.tar")).keys()]).toEqual(["dir/renamed.txt"]);
    writeFileSync(p("pax-size.tar"), paxTar(paxRecord("size", "abc")));
    fails(() => indexTar(p("pax-size.tar")), 'malformed PAX size "abc"');
    writeFileSync(p("pax-big.tar"), paxTar(paxRecord("size", "999999")));
    fails(() => indexTar(p("pax-big.tar")), "needs 999999 bytes, the file ends first");
    writeFileSync(p("pax-dotdot.tar"), paxTar(paxRecord("path", "../evil")));
    fails(() => indexTar(p("pax-dotdot.tar")), 'entry "../evil" contains ".."');
  });

  for (const format of ["gnu", "pax", "ustar"]) {
    test(`reads ${format} headers (long names, links) and slices bodies`, async () => {
      const { path, longDir, longFile } = await gnuTar(format, `${format}.tar`);
      const idx = indexTar(path);
      expect(idx.get(longFile)?.type).toBe("file");
      expect(idx.get(longDir)?.type).toBe("dir");
      const tree = new TarTree(path);
      expect(new TextDecoder().decode(await tree.readSmall(longFile, 100))).toBe("long name body\n");
      expect(await new Response(tree.stream("short.txt", 2)).text()).toBe("ort\n");
      if (format !== "ustar") {
        const link = `${longDir}/link-${"g".repeat(100)}`;
        expect(idx.get(link)?.type).toBe("symlink");
        expect(resolveEntry(idx, link, path)?.name).toBe(longFile);
      }
    });
  }

  test("PAX global headers (named /tmp/GlobalHead.N by GNU tar) and a PAX size are honoured", async () => {
    const src = p("pax-g");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "a"), "x".repeat(1000));
    const out = p("pax-g.tar");
    await run(["tar", "--format=pax", "--pax-option=comment=hello", "--pax-option=size:=1000", "-C", src, "-cf", out, "a"]);
    const idx = indexTar(out);
    expect(idx.get("a")?.size).toBe(1000);
    expect(await new Response(new TarTree(out).stream("a")).text()).toBe("x".repeat(1000));
  });

  test("skopeo-style symlinks and hardlinks resolve inside the archive", async () => {
    const path = await tar("links.tar", [
      { name: "abc.tar", body: "layer" },
      { name: "id1/layer.tar", type: "symlink", linkname: "../abc.tar" },
      { name: "id2/layer.tar", type: "link", linkname: "abc.tar" },
      { name: "id3/layer.tar", type: "symlink", linkname: "../id1/layer.tar" },
    ]);
    const idx = indexTar(path);
    for (const n of ["id1/layer.tar", "id2/layer.tar", "id3/layer.tar"]) expect(resolveEntry(idx, n, path)?.name).toBe("abc.tar");
    expect(await new Response(new TarTree(path).stream("id3/layer.tar")).text()).toBe("layer");
  });

  test("a clean end at a block boundary without the zero blocks is accepted", async () => {
    const path = await tar("noeof.tar", [{ name: "a", body: "hello" }]);
    truncateSync(path, 1024);
    expect(indexTar(path).get("a")?.size).toBe(5);
  });

  test("refuses truncation, bad checksums, unsafe names, duplicates and escaping links", async () => {
    const good = await tar("good.tar", [{ name: "a", body: "x".repeat(3000) }, { name: "b", body: "y" }]);
    const bytes = readFileSync(good);
    writeFileSync(p("cut-body.tar"), bytes.subarray(0, 1500));
    fails(() => indexTar(p("cut-body.tar")), 'truncated: entry "a" needs 3000 bytes');
    writeFileSync(p("cut-header.tar"), bytes.subarray(0, 512 + 3072 + 100));
    fails(() => indexTar(p("cut-header.tar")), "truncated tar header at byte 3584");
    writeFileSync(p("cut-pad.tar"), bytes.subarray(0, 512 + 3000));
    fails(() => indexTar(p("cut-pad.tar")), "truncated");
    const bad = Buffer.from(bytes);
    bad[10] ^= 0x01;
    writeFileSync(p("checksum.tar"), bad);
    fails(() => indexTar(p("checksum.tar")), "checksum mismatch");
    writeFileSync(p("zeros.tar"), new Uint8Array(1024));
    fails(() => indexTar(p("zeros.tar")), "empty or not a tar archive");
  });

  test("names the offending entry", async () => {
    const cases: [string, E[], string][] = [
      ["dup", [{ name: "a", body: "1" }, { name: "./a", body: "2" }], 'duplicate entry "a"'],
      ["dotdot", [{ name: "x/../../etc/passwd", body: "1" }], 'entry "x/../../etc/passwd" contains ".."'],
      ["abs", [{ name: "/etc/passwd", body: "1" }], "absolute path"],
      ["sym", [{ name: "id/layer.tar", type: "symlink", linkname: "../../etc/passwd" }], 'link "id/layer.tar" points outside the archive'],
      ["symabs", [{ name: "l", type: "symlink", linkname: "/etc/passwd" }], "points outside the archive"],
      ["hard", [{ name: "l", type: "link", linkname: "../x" }], "points outside the archive"],
    ];
    for (const [name, entries, message] of cases) {
      const path = await tar(`${name}.tar`, entries);
      fails(() => indexTar(path), message);
    }
  });
});
