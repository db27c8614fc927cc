// Issue 14's findings against real peers and other projects' fixtures (fixtures/third-party/):
// each test names the finding it guards.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const TP = resolve(import.meta.dir, "../../fixtures/third-party");
const TESTREPO = join(TP, "regclient/testrepo");
const t = tempDir("imgx-interop-");
const p = (n: string) => join(t.dir, n);
const REF = "org.opencontainers.image.ref.name";
const indexOf = (dir: string) => JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));

beforeAll(() => {
  requireTool("skopeo");
  requireTool("umoci");
});
afterAll(t.cleanup);

test("3: oci:DIR:repo:tag stores the name as given; skopeo and umoci find both repositories' v1", async () => {
  const dir = p("names");
  await imgxOk(["convert", "-q", `oci:${TESTREPO}:a1`, `oci:${dir}:a/one:v1`]);
  await imgxOk(["copy", "-q", `oci:${TESTREPO}:a2`, `oci:${dir}:b/two:v1`]);
  expect(indexOf(dir).manifests.map((m: { annotations: Record<string, string> }) => m.annotations[REF])).toEqual(["a/one:v1", "b/two:v1"]);
  const one = await run(["skopeo", "inspect", "--raw", `oci:${dir}:a/one:v1`]);
  expect(one.code).toBe(0);
  const two = await run(["skopeo", "inspect", "--raw", `oci:${dir}:b/two:v1`]);
  expect(two.stdout).not.toBe(one.stdout);
  const u = await run(["umoci", "ls", "--layout", dir]);
  expect(u.stdout.split("\n").filter(Boolean).sort()).toEqual(["a/one:v1", "b/two:v1"]);
  // both forms read back: the name as given, and a bare tag when only one image has it
  await imgxOk(["inspect", `oci:${dir}:a/one:v1`]);
  const bare = await imgx(["inspect", `oci:${dir}:v1`]);
  expect(bare.code).toBe(2);
  expect(bare.stderr).toContain("2 different images carry that name");
});

test("4: an artifact with config {} copies byte for byte; docker-archive refuses it clearly", async () => {
  const out = p("artifact");
  await imgxOk(["convert", "-q", `oci:${TESTREPO}:a-docker`, `oci:${out}:a`]);
  const src = indexOf(TESTREPO).manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.[REF] === "a-docker");
  expect(indexOf(out).manifests[0].digest).toBe(src.digest);
  const r = await imgx(["convert", `oci:${TESTREPO}:a-docker`, `docker-archive:${p("a.tar")}:a/b:1`]);
  expect(r.code).toBe(6);
  expect(r.stderr).toContain("it is not a container image (its config is not an image config), and that format holds only images");
  expect(r.stderr).toContain("copy it to an OCI layout");
});

test("5: inspect --config of an artifact prints its config, as skopeo does", async () => {
  for (const tag of ["a-docker", "ai"]) {
    const r = await imgxOk(["inspect", "--config", `oci:${TESTREPO}:${tag}`]);
    const sk = await run(["skopeo", "inspect", "--config", "--raw", `oci:${TESTREPO}:${tag}`]);
    expect(sk.code).toBe(0);
    expect(r.stdout).toBe(sk.stdout);
    expect(r.stdout).toBe("{}");
  }
});

test("6: an index whose entries carry no platform: the platform-less entry is taken, like skopeo", async () => {
  const [i, s] = [p("ai-imgx"), p("ai-skopeo")];
  await imgxOk(["convert", "-q", `oci:${TESTREPO}:ai`, `oci:${i}:x`]);
  await run(["skopeo", "copy", "-q", `oci:${TESTREPO}:ai`, `oci:${s}:x`]);
  expect(indexOf(i).manifests[0].digest).toBe(indexOf(s).manifests[0].digest);
  const gcr = p("gcr-one");
  await imgxOk(["convert", "-q", `oci:${join(TP, "go-containerregistry/layout/test_index_one_image")}`, `oci:${gcr}`]);
});

test("6: a platform that is not there: the hint is a command that works", async () => {
  const r = await imgx(["convert", "--platform", "linux/s390x", `oci:${TESTREPO}:v1`, `oci:${p("s390x")}`]);
  expect(r.code).toBe(3);
  expect(r.stderr).not.toContain("unknown");
  const hinted = /pass (--platform \S+)/.exec(r.stderr)?.[1];
  expect(hinted).toBeDefined();
  await imgxOk(["convert", "-q", ...hinted!.split(" "), `oci:${TESTREPO}:v1`, `oci:${p("hinted")}`]);
});

test("7: two entries with the same ref.name: the message lists the two digests, and one of them works", async () => {
  const dir = join(TP, "containers-image/delete_image_two_identical_references");
  const digests = indexOf(dir).manifests.map((m: { digest: string }) => m.digest);
  const r = await imgx(["inspect", `oci:${dir}:1.0.0`]);
  expect(r.code).toBe(2);
  for (const d of digests) expect(r.stderr).toContain(`@${d}`);
  await imgxOk(["inspect", `oci:${dir}:@${digests[1]}`]);
});

test("8: docker-save RepoTags without a tag become :latest, as docker load reads them", async () => {
  const out = p("bundle.tar");
  await imgxOk(["convert", "-q", join(TP, "go-containerregistry/tarball/test_bundle.tar"), out]);
  const tags = await run(["tar", "-xOf", out, "manifest.json"]);
  expect(JSON.parse(tags.stdout).map((e: { RepoTags: string[] }) => e.RepoTags)).toEqual([["test_image_2:latest"], ["test_image_1:latest"]]);
});

test("9: an OCI descriptor over a Docker body in a local layout is refused in local words", async () => {
  const r = await imgx(["inspect", `oci:${join(TP, "go-containerregistry/layout/test_index")}:1`]);
  expect(r.code).toBe(6);
  expect(r.stderr).toContain('its body says mediaType "application/vnd.docker.distribution.manifest.v2+json" but the descriptor pointing to it says "application/vnd.oci.image.manifest.v1+json"');
  expect(r.stderr).not.toContain("served");
});
