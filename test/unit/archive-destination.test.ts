// Archive destinations that can never be written are refused when the sink opens, not after the copy.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isImgxError } from "../../src/core/errors.ts";
import { openDockerArchiveSink } from "../../src/transports/docker-archive/index.ts";
import { openOciArchiveSink } from "../../src/transports/oci-archive/index.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-dest-");
afterAll(t.cleanup);

for (const [kind, open] of [["oci-archive", openOciArchiveSink], ["docker-archive", openDockerArchiveSink]] as const) {
  test(`${kind}: a directory in the way or a missing parent directory fails at open, leaving nothing`, async () => {
    const dir = join(t.dir, `${kind}-dir`);
    mkdirSync(dir);
    writeFileSync(join(dir, "keep"), "x");
    for (const existing of ["error", "update"] as const) {
      const e = await open(dir, { existing }).catch((x) => x);
      expect(isImgxError(e, "DEST_EXISTS")).toBe(true);
      expect(e.message).toContain(dir);
    }
    expect(readdirSync(dir)).toEqual(["keep"]);
    const orphan = join(t.dir, "no-such-dir", "out.tar");
    const e = await open(orphan, { existing: "error" }).catch((x) => x);
    expect(isImgxError(e, "IO")).toBe(true);
    expect(e.message).toContain("does not exist");
    expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
  });
}
