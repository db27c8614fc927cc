// catalog, delete and tag filters against the real distribution registry (Debian docker-registry).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startCountingProxy, type CountingProxy } from "../harness/counting-proxy.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { seedImage } from "../harness/seed.ts";
import { skopeoInspectDigest } from "../harness/skopeo.ts";
import { tinyImage } from "../harness/tiny-image.ts";
import { imgx } from "../helpers/imgx.ts";

let paged: RunningRegistry;
let noDelete: RunningRegistry;
let proxy: CountingProxy;
const REPOS = ["alpha/app", "alpha/db", "beta/app", "gamma/tool", "zeta/x"];
const TAGS = ["1.0", "1.1", "1.2", "1.10", "v1.9", "2.0-rc1", "2.0", "latest", "main"];

async function tagsOf(r: RunningRegistry, repo: string): Promise<string[]> {
  const body = (await (await fetch(`${r.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] | null };
  return (body.tags ?? []).sort();
}

beforeAll(async () => {
  // a page limit of 2: five repositories take three pages, and n=1000 is refused (PAGINATION_NUMBER_INVALID)
  [paged, noDelete] = await Promise.all([startRegistry("open", { catalogMaxEntries: 2 }), startRegistry("open", { deleteEnabled: false })]);
  const img = tinyImage({ seed: "housekeeping" });
  await Promise.all(REPOS.map((r) => seedImage(paged.url, r, img, r === "alpha/app" ? TAGS : ["1.0"])));
  await seedImage(noDelete.url, "team/app", img, ["1.0", "keep"]);
  proxy = startCountingProxy(paged.url);
}, 60_000);
afterAll(async () => {
  proxy?.stop();
  await Promise.all([paged?.stop(), noDelete?.stop()]);
});

test("catalog follows Link pages; a page size above the registry's limit falls back to its own", async () => {
  proxy.reset();
  const r = await imgx(["catalog", proxy.host]);
  expect(r.stderr).toBe("");
  expect(r.stdout.split("\n").filter(Boolean)).toEqual(REPOS);
  // 400 for n=1000, then three pages of at most two
  const calls = proxy.requests.filter((q) => q.path === "/v2/_catalog").map((q) => `${q.status} ${q.search}`);
  expect(calls).toEqual(["400 ?n=1000", "200 ", "200 ?last=alpha%2Fdb&n=2", "200 ?last=gamma%2Ftool&n=2"]);
  const j = await imgx(["catalog", "--json", "--page-size", "2", "--repo", "alpha/.*", paged.host]);
  expect(JSON.parse(j.stdout)).toEqual({ registry: paged.host, repositories: ["alpha/app", "alpha/db"] });
});

test("a registry without the catalog API gets its own message, not a bare 404", async () => {
  proxy.setFault((q) => (q.path === "/v2/_catalog" ? { kind: "status", status: 404 } : undefined));
  try {
    const r = await imgx(["catalog", proxy.host]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("does not offer the catalog API");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  } finally {
    proxy.setFault(undefined);
  }
});

test("tags filters: regex, semver range, latest N, JSON", async () => {
  const run = async (...args: string[]) => {
    const r = await imgx(["tags", ...args, `${paged.host}/alpha/app`]);
    if (r.code !== 0) throw new Error(r.stderr);
    // the registry's order is its own (not lexical): compare as sets
    return r.stdout.split("\n").filter(Boolean).sort();
  };
  expect(await run("--semver", ">=1.1 <2")).toEqual(["1.1", "1.10", "1.2", "v1.9"].sort());
  expect(await run("--latest", "2")).toEqual(["2.0", "2.0-rc1"]);
  expect(await run("--tags", "1\\..*", "--latest", "2")).toEqual(["1.10", "1.2"]);
  expect(await run("--tags", "latest", "--tags", "main")).toEqual(["latest", "main"]);
  expect(await run("--exclude-tags", ".*-rc.*", "--semver", "^2")).toEqual(["2.0"]);
  const j = await imgx(["tags", "--json", "--semver", "~1.0", `${paged.host}/alpha/app`]);
  expect(JSON.parse(j.stdout)).toEqual({ repository: `${paged.host}/alpha/app`, tags: ["1.0"] });
  const bad = await imgx(["tags", "--semver", "newest", `${paged.host}/alpha/app`]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('Cannot use semver range "newest"');
});

test("delete by digest removes the manifest; a tag delete leaves the image and its other tags", async () => {
  const img = tinyImage({ seed: "to-delete" });
  await seedImage(paged.url, "del/app", img, ["a", "b"]);
  const other = tinyImage({ seed: "to-delete-2" });
  await seedImage(paged.url, "del/app", other, ["c"]);
  // distribution 2.8 has no tag delete: the tag goes through the placeholder workaround
  const t = await imgx(["delete", `${paged.host}/del/app:a`]);
  expect(t.stderr).toContain("Deleted tag");
  expect(t.code).toBe(0);
  expect(await tagsOf(paged, "del/app")).toEqual(["b", "c"]);
  expect(await skopeoInspectDigest(`${paged.host}/del/app:b`)).toBe(img.manifest.digest);
  // deleting a tag that is not there creates nothing
  const missing = await imgx(["delete", `${paged.host}/del/app:nope`]);
  expect(missing.code).toBe(3);
  expect((await tagsOf(paged, "del/app"))).toEqual(["b", "c"]);

  const d = await imgx(["delete", "--json", `${paged.host}/del/app@${other.manifest.digest}`]);
  expect(JSON.parse(d.stdout)).toEqual({ deleted: `${paged.host}/del/app@${other.manifest.digest}`, how: "digest" });
  expect((await fetch(`${paged.url}/v2/del/app/manifests/${other.manifest.digest}`, { method: "HEAD" })).status).toBe(404);
  expect((await tagsOf(paged, "del/app"))).toEqual(["b"]);
  const again = await imgx(["delete", `${paged.host}/del/app@${other.manifest.digest}`]);
  expect(again.code).toBe(3);
  const bare = await imgx(["delete", `${paged.host}/del/app`]);
  expect(bare.code).toBe(2);
});

test("delete on a registry with deletes disabled: its own error, nothing changed", async () => {
  const before = loggedRequests(noDelete.logPath).length;
  for (const ref of [`${noDelete.host}/team/app:1.0`, `${noDelete.host}/team/app@${tinyImage({ seed: "housekeeping" }).manifest.digest}`]) {
    const r = await imgx(["delete", ref]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("the registry has deletes disabled");
    expect(r.stderr).toContain("storage.delete.enabled");
  }
  // the tag delete did not try the placeholder workaround (no manifest PUT)
  expect(loggedRequests(noDelete.logPath).slice(before).filter((q) => q.method === "PUT")).toEqual([]);
  expect((await tagsOf(noDelete, "team/app"))).toEqual(["1.0", "keep"]);
});
