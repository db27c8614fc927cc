import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { generateAll } from "../../fixtures/generate.ts";
import { DigestCounter } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { openOciArchiveSource } from "../../src/transports/oci-archive/index.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-ociarch-");
const fx = join(t.dir, "fx");
beforeAll(() => generateAll(fx));
afterAll(t.cleanup);

async function rejects(pr: Promise<unknown>, code: string, text: string): Promise<void> {
  const e = await pr.then(() => undefined, (x) => x);
  expect(isImgxError(e, code as never)).toBe(true);
  expect((e as Error).message).toContain(text);
}

test("a Docker 25+ save is also an OCI archive: names from index.json, verified manifests, streamed blobs", async () => {
  for (const path of [join(fx, "docker25-save.tar"), join(t.dir, "d25.tar.gz")]) {
    if (path.endsWith(".gz")) writeFileSync(path, gzipSync(await Bun.file(join(fx, "docker25-save.tar")).bytes()));
    const src = await openOciArchiveSource(path, "imgx-demo/app25:1.0");
    const [img] = await src.images();
    expect(img!.names).toEqual(["docker.io/imgx-demo/app25:1.0"]);
    const m = await src.manifest(img!.descriptor);
    if (m.parsed.kind !== "manifest") throw new Error("expected a manifest");
    for (const d of m.parsed.manifest.layers) {
      const h = new DigestCounter();
      for await (const c of await src.blob(d)) h.update(c);
      expect([h.digest(), h.size]).toEqual([d.digest, d.size]);
    }
    await rejects((await openOciArchiveSource(path, "nope")).images(), "NOT_FOUND", "names present: docker.io/imgx-demo/app25:1.0");
    await src.close();
  }
});

test("a legacy docker save is not an OCI archive, and says why", async () => {
  await rejects(openOciArchiveSource(join(fx, "legacy-save.tar")), "BAD_ARCHIVE", "no oci-layout file");
});
