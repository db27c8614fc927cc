import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { imgx, tempDir } from "../helpers/imgx.ts";
import { makeAccepted, makeCorpus, type HostileCase } from "./make-corpus.ts";

const t = tempDir("imgx-hostile-");
let cases: HostileCase[] = [];
beforeAll(async () => {
  cases = await makeCorpus(join(t.dir, "corpus"));
});
afterAll(t.cleanup);

describe("hostile inputs", () => {
  test("each gives one clear line, a non-zero exit and no destination", async () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) {
      for (const [i, dst] of [`oci:${join(t.dir, "out-oci")}`, `docker-archive:${join(t.dir, "out.tar")}`, `oci-archive:${join(t.dir, "out-oci.tar")}`].entries()) {
        const r = await imgx(["convert", "--quiet", c.input, dst]);
        const line = r.stderr.trim();
        expect({ case: c.name, i, code: r.code === 0 ? 0 : "nonzero" }).toEqual({ case: c.name, i, code: "nonzero" });
        expect({ case: c.name, lines: line.split("\n").length }).toEqual({ case: c.name, lines: 1 });
        expect({ case: c.name, line: line.toLowerCase().includes(c.expect.toLowerCase()) }).toEqual({ case: c.name, line: true });
        expect(line).toStartWith("imgx: Cannot");
        expect(existsSync(join(t.dir, "out-oci")) || existsSync(join(t.dir, "out.tar")) || existsSync(join(t.dir, "out-oci.tar"))).toBe(false);
      }
      // no temp files left next to the destinations
      expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
    }
  }, 120_000);

  test("the same verdicts when the layers are compressed on the way (workers read the files)", async () => {
    for (const c of cases) {
      for (const algo of ["gzip", "zstd"]) {
        const r = await imgx(["convert", "--quiet", "--compress", algo, c.input, `oci:${join(t.dir, "out-gz")}`]);
        const line = r.stderr.trim();
        expect({ case: c.name, algo, code: r.code === 0 ? 0 : "nonzero", line: line.toLowerCase().includes(c.expect.toLowerCase()) }).toEqual({ case: c.name, algo, code: "nonzero", line: true });
        expect(existsSync(join(t.dir, "out-gz"))).toBe(false);
      }
    }
  }, 120_000);

  test("odd but harmless archives are accepted", async () => {
    for (const [i, input] of (await makeAccepted(join(t.dir, "accepted"))).entries()) {
      const r = await imgx(["convert", "--quiet", input, `oci:${join(t.dir, `accepted-${i}`)}`]);
      expect({ input, code: r.code, stderr: r.stderr }).toEqual({ input, code: 0, stderr: "" });
    }
  }, 30_000);

  test("an existing destination is refused and left as it was", async () => {
    const dst = join(t.dir, "exists.tar");
    writeFileSync(dst, "precious");
    const r = await imgx(["convert", join(t.dir, "corpus", "ok.tar"), `docker-archive:${dst}`]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("already exists");
    expect(readFileSync(dst, "utf8")).toBe("precious");
    const dir = join(t.dir, "exists-dir");
    mkdirSync(dir);
    writeFileSync(join(dir, "keep"), "x");
    const r2 = await imgx(["convert", join(t.dir, "corpus", "ok.tar"), `oci:${dir}`]);
    expect(r2.code).toBe(7);
    expect(readdirSync(dir)).toEqual(["keep"]);
  });
});
