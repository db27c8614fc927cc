// Other projects' own test fixtures (fixtures/third-party/, see its README) through imgx: every
// image each one names is inspected and converted, and wherever skopeo copies it, imgx must copy
// it to the same bytes (OCI layouts are copied unchanged) or the same config and layers (docker-save
// tarballs, whose manifests each tool writes itself). Where skopeo fails, imgx must succeed or fail
// with a one-line error (never "unexpected"). Known, deliberate differences are listed with why.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const TP = resolve(import.meta.dir, "../../fixtures/third-party");
const t = tempDir("imgx-3p-");
const p = (n: string) => join(t.dir, n);
let seq = 0;
const fresh = () => p(`o${++seq}`);

const TARBALLS = readdirSync(join(TP, "go-containerregistry/tarball")).map((f) => join(TP, "go-containerregistry/tarball", f));
const LAYOUTS = [
  ...readdirSync(join(TP, "go-containerregistry/layout")).map((d) => join(TP, "go-containerregistry/layout", d)),
  join(TP, "regclient/testrepo"),
  ...readdirSync(join(TP, "containers-image"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(TP, "containers-image", e.name)),
];

/** imgx refuses these where skopeo copies them; each is a decision documented in the README. */
const DELIBERATE: Record<string, string> = {
  // an OCI descriptor over a Docker v2 body: one of the two is wrong, and a registry refuses the pair (README "Design notes")
  "go-containerregistry/layout/test_index:1": "the descriptor pointing to it says",
  "go-containerregistry/layout/test_gc_index:1": "the descriptor pointing to it says",
  "go-containerregistry/layout/test_index:3": "the descriptor pointing to it says", // an index holding that entry
  "go-containerregistry/layout/test_gc_index:3": "the descriptor pointing to it says",
  // two different images carry ref.name 1.0.0: skopeo silently takes the first, imgx asks which
  "containers-image/delete_image_two_identical_references:1.0.0": "2 different images carry that name",
};

function refNames(layout: string): string[] {
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  return [...new Set<string>(index.manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.["org.opencontainers.image.ref.name"]).filter(Boolean))];
}
const short = (path: string) => path.slice(TP.length + 1);
const topDigest = (layout: string) => JSON.parse(readFileSync(join(layout, "index.json"), "utf8")).manifests[0].digest as string;
function blobJson(layout: string, digest: string) {
  return JSON.parse(readFileSync(join(layout, "blobs/sha256", digest.slice(7)), "utf8"));
}
/** Config and layer digests of the single image in a layout. */
function imageParts(layout: string): string[] {
  const m = blobJson(layout, topDigest(layout));
  return [m.config.digest, ...m.layers.map((l: { digest: string }) => l.digest)];
}
function expectCleanFailure(r: { code: number; stderr: string }): void {
  expect(r.code).toBeGreaterThan(1);
  expect(r.stderr).not.toContain("unexpected error");
  expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("imgx:"))).toHaveLength(1);
}

beforeAll(() => {
  requireTool("skopeo");
  requireTool("umoci");
});
afterAll(t.cleanup);

describe("every name in every third-party OCI layout", () => {
  const cases = LAYOUTS.flatMap((l) => refNames(l).map((n) => [`${short(l)}:${n}`, l, n] as const));
  test.each(cases)("%s", async (key, layout, name) => {
    const [s, i] = [fresh(), fresh()];
    // --preserve-digests: skopeo would otherwise compress uncompressed layers for an OCI destination
    const [sk, ins, r] = await Promise.all([
      run(["skopeo", "copy", "-q", "--all", "--preserve-digests", `oci:${layout}:${name}`, `oci:${s}:x`]),
      imgx(["inspect", "--all-platforms", `oci:${layout}:${name}`]),
      imgx(["convert", "-q", "--all-platforms", `oci:${layout}:${name}`, `oci:${i}:x`]),
    ]);
    if (DELIBERATE[key]) {
      expect(r.stderr).toContain(DELIBERATE[key]!);
      expectCleanFailure(r);
      return;
    }
    if (sk.code === 0) {
      expect(ins.code).toBe(0);
      if (r.code !== 0) throw new Error(`skopeo copies ${key}, imgx does not: ${r.stderr}`);
      expect(topDigest(i)).toBe(topDigest(s));
      expect(readdirSync(join(i, "blobs/sha256")).sort()).toEqual(readdirSync(join(s, "blobs/sha256")).sort());
    } else if (r.code !== 0) expectCleanFailure(r);
  });
});

describe("every image in every go-containerregistry tarball", () => {
  test.each(TARBALLS.map((f) => [short(f), f] as const))("%s", async (_key, file) => {
    const ins = await imgx(["inspect", "--json", file]);
    const sk0 = await run(["skopeo", "inspect", "--raw", `docker-archive:${file}:@0`]);
    if (ins.code !== 0) {
      expectCleanFailure(ins);
      expect(sk0.code).not.toBe(0); // imgx refuses only what skopeo refuses too
      return;
    }
    const parsed = JSON.parse(ins.stdout);
    const count = Array.isArray(parsed) ? parsed.length : 1;
    for (let n = 0; n < count; n++) {
      const [s, i] = [fresh(), fresh()];
      await imgxOk(["convert", "-q", `docker-archive:${file}:@${n}`, `oci:${i}:x`]);
      // dir: keeps every blob as it is (an oci: destination would make skopeo compress the layers)
      const sk = await run(["skopeo", "copy", "-q", `docker-archive:${file}:@${n}`, `dir:${s}`]);
      // test_link.tar@1 (a hard link to another image's layer): skopeo reads its size as 0 and fails; imgx reads it
      if (sk.code !== 0) {
        expect(`${short(file)}@${n}`).toBe("go-containerregistry/tarball/test_link.tar@1");
        continue;
      }
      const m = JSON.parse(readFileSync(join(s, "manifest.json"), "utf8"));
      expect(imageParts(i)).toEqual([m.config.digest, ...m.layers.map((l: { digest: string }) => l.digest)]);
    }
  });
});

describe("whole layouts", () => {
  test("two images under one name both survive a whole-layout copy (the later keeps the name)", async () => {
    const src = join(TP, "containers-image/delete_image_two_identical_references");
    const out = fresh();
    await imgxOk(["convert", "-q", "--all-platforms", `oci:${src}`, `oci:${out}`]);
    const digests = (dir: string) => JSON.parse(readFileSync(join(dir, "index.json"), "utf8")).manifests.map((m: { digest: string }) => m.digest).sort();
    expect(digests(out)).toEqual(digests(src));
  });

  test("regclient's testrepo converts whole (artifacts with config {} included, finding 4)", async () => {
    const out = fresh();
    await imgxOk(["convert", "-q", "--all-platforms", `oci:${join(TP, "regclient/testrepo")}`, `oci:${out}`]);
    const names = JSON.parse(readFileSync(join(out, "index.json"), "utf8")).manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.["org.opencontainers.image.ref.name"]);
    expect(names).toEqual(expect.arrayContaining(["a-docker", "a-docker-oci", "ai", "v1", "v2", "v3", "loop"]));
  });

  test.each(LAYOUTS.map((l) => [short(l), l] as const))("%s: inspect and convert --all-platforms end cleanly", async (_key, layout) => {
    const [ins, r] = await Promise.all([imgx(["inspect", "--all-platforms", `oci:${layout}`]), imgx(["convert", "-q", "--all-platforms", `oci:${layout}`, `oci:${fresh()}`])]);
    if (ins.code !== 0) expectCleanFailure(ins);
    if (r.code !== 0) expectCleanFailure(r);
  });
});
