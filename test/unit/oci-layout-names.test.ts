// Choosing an image in an OCI layout by name when Docker 25 gave several images one ref.name.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isImgxError } from "../../src/core/errors.ts";
import { openOciLayoutSource } from "../../src/transports/oci-layout/index.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-names-");
afterAll(t.cleanup);

const REF = "org.opencontainers.image.ref.name";
const CTR = "io.containerd.image.name";
const entry = (n: number, annotations: Record<string, string>) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${String(n).repeat(64)}`, size: 100, annotations });

function layout(manifests: unknown[]): string {
  const dir = join(t.dir, `l${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests }));
  return dir;
}
async function pick(dir: string, name: string): Promise<string> {
  const imgs = await (await openOciLayoutSource(dir, name)).images();
  expect(imgs).toHaveLength(1);
  return imgs[0]!.descriptor.digest.slice(7, 8);
}

test("`docker save a:latest b:latest`: full names choose, the shared bare tag is refused as ambiguous", async () => {
  const dir = layout([entry(1, { [REF]: "latest", [CTR]: "docker.io/library/a:latest" }), entry(2, { [REF]: "latest", [CTR]: "docker.io/library/b:latest" })]);
  expect(await pick(dir, "a")).toBe("1");
  expect(await pick(dir, "b:latest")).toBe("2");
  expect(await pick(dir, "docker.io/library/b:latest")).toBe("2");
  const e = await openOciLayoutSource(dir, "latest")
    .then((s) => s.images())
    .catch((x) => x);
  expect(isImgxError(e, "USAGE")).toBe(true);
  expect(e.message).toContain(`2 different images carry that name: @sha256:${"1".repeat(64)}, @sha256:${"2".repeat(64)}`);
  expect(e.hint).toContain("docker.io/library/a:latest, docker.io/library/b:latest");
  expect(e.message).toContain(dir);
});

test("one image under a bare tag and a full name, or a name on the same image twice, is not ambiguous", async () => {
  const dir = layout([entry(1, { [REF]: "1" }), entry(1, { [REF]: "1", [CTR]: "docker.io/library/x:1" }), entry(2, { [REF]: "docker.io/library/y:2" })]);
  expect(await pick(dir, "1")).toBe("1");
  expect(await pick(dir, "x:1")).toBe("1");
  // skopeo's oci:DIR:docker.io/library/y:2 stores the full name as ref.name
  expect(await pick(dir, "y:2")).toBe("2");
  expect(await pick(dir, "docker.io/library/y:2")).toBe("2");
});
