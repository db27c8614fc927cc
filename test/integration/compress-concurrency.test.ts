// How many layers are compressed at once: two into a registry (one waits on its upload while the
// other keeps the compression workers busy), one at a time into local files (two only cost memory
// there). Read from the --json events: a layer's blob-start before or after another's blob-done.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { imgxOk, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-gzconc-");
const save = join(t.dir, "save.tar");
let reg: RunningRegistry;

beforeAll(async () => {
  // four layers of 3 MiB (seeded random bytes in real tars), uncompressed as docker save writes them
  const g = Bun.spawn([process.execPath, "fixtures/generate.ts", "--big", "12", save], { stdout: "ignore", stderr: "ignore" });
  expect(await g.exited).toBe(0);
  reg = await startRegistry("open");
}, 60_000);

afterAll(async () => {
  await reg?.stop();
  t.cleanup();
});

/** The most layers that were between blob-start and blob-done at the same time. */
function mostAtOnce(ndjson: string): number {
  let now = 0;
  let most = 0;
  for (const line of ndjson.split("\n").filter(Boolean)) {
    const e = JSON.parse(line);
    if (!/rootfs|layer/.test(e.mediaType ?? "")) continue;
    if (e.type === "blob-start") most = Math.max(most, ++now);
    if (e.type === "blob-done" && e.state === "copied") now--;
  }
  return most;
}

describe("layers compressed at once", () => {
  test("two into a registry", async () => {
    const r = await imgxOk(["push", "--json", "--plain-http", save, `${reg.host}/conc/app:1`]);
    expect(mostAtOnce(r.stdout)).toBe(2);
  });

  test("one at a time into an OCI layout", async () => {
    const r = await imgxOk(["convert", "--json", "--compress", "gzip", save, `oci:${join(t.dir, "out")}`]);
    expect(mostAtOnce(r.stdout)).toBe(1);
  });
});
