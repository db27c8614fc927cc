// The hostile corpus through the library (no binary): every case is an ImgxError whose one-line
// message names the input, and no destination of any kind appears — not even a temp file.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyImages } from "../../src/copy/pipeline.ts";
import { ImgxError } from "../../src/core/errors.ts";
import { openSink, openSource } from "../../src/transports/open.ts";
import { parseTransportRef } from "../../src/transports/parse.ts";
import { tempDir } from "../helpers/imgx.ts";
import { makeCorpus, type HostileCase } from "./make-corpus.ts";

const t = tempDir("imgx-hostile-lib-");
let cases: HostileCase[] = [];
beforeAll(async () => {
  cases = await makeCorpus(join(t.dir, "corpus"));
});
afterAll(t.cleanup);

async function attempt(input: string, dst: string): Promise<unknown> {
  try {
    const source = await openSource(parseTransportRef(input));
    try {
      const sink = await openSink(parseTransportRef(dst, { forWrite: true }));
      await copyImages(source, sink, { platforms: { all: true } });
    } finally {
      await source.close();
    }
  } catch (e) {
    return e;
  }
  return undefined;
}

test("every hostile input is an ImgxError naming the file and the problem; destinations stay absent", async () => {
  expect(cases.length).toBeGreaterThanOrEqual(20);
  const out = join(t.dir, "out");
  mkdirSync(out);
  for (const c of cases) {
    const file = c.input.replace(/^(oci|oci-archive|docker-archive):/, "");
    for (const dst of [`oci:${join(out, "layout")}`, `oci-archive:${join(out, "a.tar")}`, `docker-archive:${join(out, "d.tar")}`]) {
      const e = await attempt(c.input, dst);
      const seen = { case: c.name, dst, imgx: e instanceof ImgxError, message: e instanceof Error ? e.message : String(e) };
      expect(seen).toMatchObject({ case: c.name, dst, imgx: true });
      expect({ case: c.name, oneLine: !seen.message.includes("\n") }).toEqual({ case: c.name, oneLine: true });
      expect({ case: c.name, problem: seen.message.toLowerCase().includes(c.expect.toLowerCase()) }).toEqual({ case: c.name, problem: true });
      expect({ case: c.name, namesFile: seen.message.includes(file) }).toEqual({ case: c.name, namesFile: true });
      expect(seen.message).toStartWith("Cannot ");
      expect({ case: c.name, left: readdirSync(out) }).toEqual({ case: c.name, left: [] });
    }
  }
}, 120_000);

test("an existing archive or layout is refused before anything is read or written", async () => {
  const ok = join(t.dir, "corpus", "ok.tar");
  const file = join(t.dir, "keep.tar");
  writeFileSync(file, "precious");
  const dir = join(t.dir, "keep-dir");
  mkdirSync(dir);
  writeFileSync(join(dir, "x"), "y");
  for (const dst of [`docker-archive:${file}`, `oci-archive:${file}`, `oci:${dir}`]) {
    const e = await attempt(ok, dst);
    expect(e instanceof ImgxError && e.code).toBe("DEST_EXISTS");
    expect((e as Error).message).toContain(dst.slice(dst.indexOf(":") + 1));
  }
  expect(readFileSync(file, "utf8")).toBe("precious");
  expect(readdirSync(dir)).toEqual(["x"]);
  expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
});
