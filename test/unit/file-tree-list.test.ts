// Both file trees list the same regular files for the same layout.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { singleOci } from "../../fixtures/generate.ts";
import { DirTree, TarTree } from "../../src/storage/file-tree.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-list-");
const dir = join(t.dir, "layout");
beforeAll(() => singleOci(dir));
afterAll(t.cleanup);

test("a directory and a tar of it list the same files; links leading outside are left out", async () => {
  const tree = new DirTree(dir);
  const files = tree.list().sort();
  expect(files).toContain("oci-layout");
  expect(files).toContain("index.json");
  expect(files.filter((f) => f.startsWith("blobs/sha256/"))).toHaveLength(4);
  const tarPath = join(t.dir, "layout.tar");
  const entries = await Promise.all(
    files.map(async (name) => {
      const body = await tree.readSmall(name, 1 << 20);
      return { header: { name, size: body.length, type: "file" as const, mtime: new Date(0) }, body };
    }),
  );
  await Bun.write(tarPath, await packTar(entries));
  expect(new TarTree(tarPath).list().sort()).toEqual(files);
  symlinkSync("/etc/passwd", join(dir, "escape"));
  symlinkSync("index.json", join(dir, "alias.json"));
  expect(new DirTree(dir).list().sort()).toEqual([...files, "alias.json"].sort());
});
