// imgx sync against real registries (Debian docker-registry): a mirror of 3 repositories × 10 tags
// registry → registry and registry → OCI layout bundle → another registry, checked with skopeo;
// the no-change rerun, kill -9 and rerun, tag filters, 429 throttling, sync.yaml.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { loggedRequests, type LoggedRequest } from "../harness/access-log.ts";
import { startCountingProxy } from "../harness/counting-proxy.ts";
import { startRegistries, startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { seedImage, type Pushable } from "../harness/seed.ts";
import { skopeo, skopeoInspectDigest } from "../harness/skopeo.ts";
import { blobOf, tinyImage } from "../harness/tiny-image.ts";
import { IMGX, imgx, tempDir } from "../helpers/imgx.ts";

const REPOS = ["team/app", "team/db", "tools/cli"];
const TAGS = ["1.0", "1.1", "1.2", "1.9", "1.10", "2.0-rc1", "2.0", "2.1", "latest", "main"];
const t = tempDir("imgx-sync-");
let src: RunningRegistry;
let dst: RunningRegistry;
let airgap: RunningRegistry;
/** What was pushed: "repo:tag" → manifest digest. */
const pushed = new Map<string, string>();

/** A two-platform index over two tiny images, so the mirror also carries an index unchanged. */
function tinyIndex(seed: string): Pushable & { children: (Pushable & { arch: string })[] } {
  const kids = ["amd64", "arm64"].map((arch) => {
    const img = tinyImage({ seed: `${seed}-${arch}` });
    return { ...img, arch };
  });
  const idx = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: kids.map((k) => ({ mediaType: k.manifest.mediaType, digest: k.manifest.digest, size: k.manifest.size, platform: { os: "linux", architecture: k.arch } })),
  };
  return { blobs: [], manifest: blobOf(idx.mediaType, new TextEncoder().encode(JSON.stringify(idx))), children: kids };
}

async function seed(r: RunningRegistry): Promise<void> {
  await Promise.all(
    REPOS.map(async (repo) => {
      for (const tag of TAGS) {
        if (repo === "tools/cli" && tag === "latest") {
          const idx = tinyIndex(`${repo}:${tag}`);
          for (const k of idx.children) await seedImage(r.url, repo, k, []);
          await seedImage(r.url, repo, idx, [tag]);
          pushed.set(`${repo}:${tag}`, idx.manifest.digest);
          continue;
        }
        const img = tinyImage({ seed: `${repo}:${tag}` });
        await seedImage(r.url, repo, img, [tag]);
        pushed.set(`${repo}:${tag}`, img.manifest.digest);
      }
    }),
  );
}

/** skopeo's digest of every pushed tag at `host` (prefix before each repository), a few at a time. */
async function skopeoView(host: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const keys = [...pushed.keys()];
  for (let i = 0; i < keys.length; i += 10)
    await Promise.all(keys.slice(i, i + 10).map(async (k) => out.set(k, await skopeoInspectDigest(`${host}/${prefix}${k}`))));
  return out;
}

const since = (r: RunningRegistry, n: number): LoggedRequest[] => loggedRequests(r.logPath).slice(n);
const blobOrUpload = (q: LoggedRequest) => q.uri.includes("/blobs/") || ["PUT", "POST", "PATCH", "DELETE"].includes(q.method);

async function run(args: string[]): Promise<{ code: number; stderr: string; events: Record<string, unknown>[] }> {
  const r = await imgx(["sync", "--json", ...args]);
  const events = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { code: r.code, stderr: r.stderr, events };
}
const summary = (events: Record<string, unknown>[]) => events.find((e) => e.type === "sync-summary") as Record<string, number>;

beforeAll(async () => {
  const regs = await Promise.all([startRegistry("open"), startRegistry("open"), startRegistry("open")]);
  [src, dst, airgap] = regs;
  await seed(src);
}, 60_000);
afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop(), airgap?.stop()]);
  t.cleanup();
});

test("registry → registry: 3 repositories × 10 tags, every digest as skopeo sees it; a rerun moves nothing", async () => {
  const r = await run(["--repo", "team/.*", "--repo", "tools/cli", src.host, dst.host]);
  expect(r.stderr).toBe("");
  expect(summary(r.events)).toMatchObject({ images: 30, copied: 30, current: 0, failed: 0 });
  expect(await skopeoView(dst.host)).toEqual(pushed);

  const before = { src: loggedRequests(src.logPath).length, dst: loggedRequests(dst.logPath).length };
  const again = await run(["--repo", "team/.*", "--repo", "tools/cli", src.host, dst.host]);
  expect(summary(again.events)).toMatchObject({ images: 30, copied: 0, current: 30, failed: 0, bytes: 0 });
  const s = since(src, before.src);
  const d = since(dst, before.dst);
  expect([...s, ...d].filter(blobOrUpload)).toEqual([]);
  // one HEAD per tag on each side, nothing else but the ping, the catalog and the tag lists
  const heads = (l: LoggedRequest[]) => l.filter((q) => q.method === "HEAD" && q.uri.includes("/manifests/")).length;
  expect({ src: heads(s), dst: heads(d) }).toEqual({ src: 30, dst: 30 });
  expect(d.filter((q) => q.method !== "HEAD" && q.uri !== "/v2/")).toEqual([]);
}, 60_000);

test("registry → OCI layout bundle → another registry: names repo:tag in ref.name, blobs shared, digests kept", async () => {
  const bundle = join(t.dir, "bundle");
  const out = await run([src.host, `oci:${bundle}`, "--repo", "team/app", "--repo", "team/db", "--repo", "tools/cli"]);
  expect(summary(out.events)).toMatchObject({ images: 30, copied: 30, failed: 0 });
  const index = JSON.parse(await Bun.file(join(bundle, "index.json")).text()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const names = new Map(index.manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"]!, m.digest]));
  expect(names).toEqual(pushed);
  // skopeo reads an image of the bundle by its ref.name
  expect(await skopeo(["inspect", "--raw", `oci:${bundle}:tools/cli:latest`])).toBe(new TextDecoder().decode(tinyIndex("tools/cli:latest").manifest.bytes));
  const rerun = await run([src.host, `oci:${bundle}`, "--repo", "team/app", "--repo", "team/db", "--repo", "tools/cli"]);
  expect(summary(rerun.events)).toMatchObject({ copied: 0, current: 30 });

  const into = await run([bundle, airgap.host]);
  expect(into.stderr).toBe("");
  expect(summary(into.events)).toMatchObject({ images: 30, copied: 30, failed: 0 });
  expect(await skopeoView(airgap.host)).toEqual(pushed);
}, 60_000);

test("tag filters pick what imgx tags picks: --semver, --latest, --tags, --exclude-tags; --dry-run copies nothing", async () => {
  const tagsOf = async (args: string[]) => {
    const r = await run(["--dry-run", ...args, `${src.host}/team/app`, `${dst.host}/filtered/app`]);
    return r.events.filter((e) => e.type === "sync-image").map((e) => String(e.source).split(":").pop()).sort();
  };
  expect(await tagsOf(["--semver", ">=1.1 <2"])).toEqual(["1.1", "1.10", "1.2", "1.9"]);
  expect(await tagsOf(["--latest", "3"])).toEqual(["2.0", "2.0-rc1", "2.1"]);
  expect(await tagsOf(["--tags", "1\\..*", "--exclude-tags", "1\\.1.*"])).toEqual(["1.0", "1.2", "1.9"]);
  expect(await tagsOf(["--tags", "latest|main"])).toEqual(["latest", "main"]);
  const before = loggedRequests(dst.logPath).length;
  await tagsOf(["--all-tags"]);
  expect(since(dst, before).filter(blobOrUpload)).toEqual([]);
  const real = await run(["--semver", "^2", `${src.host}/team/app`, `${dst.host}/filtered/app`]);
  expect(summary(real.events)).toMatchObject({ images: 2, copied: 2 });
  const tags = (await (await fetch(`${dst.url}/v2/filtered/app/tags/list`)).json()) as { tags: string[] };
  expect(tags.tags.sort()).toEqual(["2.0", "2.1"]);
}, 60_000);

test("kill -9 mid-sync, rerun: finishes, and nothing is uploaded twice", async () => {
  const fresh = await startRegistry("open");
  // the first 6 tags go through; later manifest PUTs get 503 (retried), so the images then in
  // flight have their blobs uploaded but no tag when the kill lands
  let manifests = 0;
  const tagPut = (q: { method: string; path: string }) => q.method === "PUT" && q.path.includes("/manifests/") && !q.path.includes("/manifests/sha256:");
  const proxy = startCountingProxy(fresh.url, { fault: (q) => (tagPut(q) && ++manifests > 6 ? { kind: "status", status: 503 } : undefined) });
  try {
    const p = Bun.spawn([IMGX, "sync", "-q", "--repo", "team/.*", "--repo", "tools/cli", src.host, proxy.host], { stdout: "ignore", stderr: "ignore", env: { ...process.env, NO_COLOR: "1" } });
    const deadline = Date.now() + 20_000;
    const stuck = () => proxy.requests.filter((q) => q.status === 503).length >= 2 && proxy.requests.filter((q) => tagPut(q) && q.status === 201).length >= 6;
    while (!stuck() && Date.now() < deadline) await Bun.sleep(10);
    p.kill(9);
    await p.exited;
    const tagged = proxy.requests.filter((q) => tagPut(q) && q.status === 201).length;
    expect(tagged).toBe(6);
    const r = await run(["--repo", "team/.*", "--repo", "tools/cli", src.host, fresh.host]);
    expect(r.stderr).toBe("");
    const s = summary(r.events);
    expect({ failed: s.failed, current: s.current, copied: s.copied }).toEqual({ failed: 0, current: 6, copied: 24 });
    // every blob was uploaded once and every tag written once over both runs (an index's child
    // manifests, PUT by digest, are not counted: the copy writes them again, a few hundred bytes)
    const log = loggedRequests(fresh.logPath).filter((q) => q.method === "PUT" && q.status === 201 && !q.uri.includes("/manifests/sha256:"));
    const key = (q: LoggedRequest) => `${q.uri.replace(/\/blobs\/uploads\/.*$/, "/blobs")}${/[?&]digest=([^&]+)/.exec(q.uri)?.[1] ?? ""}`;
    const counts = new Map<string, number>();
    for (const q of log) counts.set(key(q), (counts.get(key(q)) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    expect(log.filter((q) => q.uri.includes("/blobs/")).length).toBeGreaterThan(0);
    expect(await skopeoView(fresh.host)).toEqual(pushed);
  } finally {
    proxy.stop();
    await fresh.stop();
  }
}, 60_000);

test("kill -9 mid-sync into a bundle, rerun: the finished images stay listed and are not fetched again", async () => {
  const bundle = join(t.dir, "killed-bundle");
  // manifest GETs slowed down so the kill lands mid-sync
  const proxy = startCountingProxy(src.url, { fault: (q) => (q.method === "GET" && q.path.includes("/manifests/") ? { kind: "stall", ms: 150 } : undefined) });
  try {
    const args = ["--repo", "team/.*", "--repo", "tools/cli", proxy.host, `oci:${bundle}`];
    const p = Bun.spawn([IMGX, "sync", "-q", ...args], { stdout: "ignore", stderr: "ignore" });
    const listed = async () => {
      try {
        return (JSON.parse(await Bun.file(join(bundle, "index.json")).text()) as { manifests: unknown[] }).manifests.length;
      } catch {
        return 0;
      }
    };
    const deadline = Date.now() + 20_000;
    while ((await listed()) < 5 && Date.now() < deadline) await Bun.sleep(20);
    p.kill(9);
    await p.exited;
    const before = await listed();
    expect(before).toBeGreaterThanOrEqual(5);
    expect(before).toBeLessThan(30);
    // the killed run's lock is stale (its PID is gone): the rerun takes the layout over
    proxy.reset();
    const r = await run(args);
    expect(r.stderr).toBe("");
    expect(summary(r.events)).toMatchObject({ failed: 0, current: before, copied: 30 - before });
    // images already listed were not fetched again: one manifest GET per copied tag (+2 index children)
    const manifestGets = proxy.requests.filter((q) => q.method === "GET" && q.path.includes("/manifests/")).length;
    expect(manifestGets).toBeLessThanOrEqual(30 - before + 2);
    const index = JSON.parse(await Bun.file(join(bundle, "index.json")).text()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(new Map(index.manifests.map((m) => [m.annotations["org.opencontainers.image.ref.name"]!, m.digest]))).toEqual(pushed);
  } finally {
    proxy.stop();
  }
}, 60_000);

test("a registry answering 429 is left alone for its Retry-After, by every image in flight, and the sync completes", async () => {
  const fresh = await startRegistry("open");
  let n = 0;
  // the 4th request to the source and every 10th are throttled with Retry-After: 1, early enough
  // that other images still have work to send while the registry asked to be left alone
  const proxy = startCountingProxy(src.url, { fault: (q) => (q.path !== "/v2/" && (++n === 4 || n % 10 === 0) ? { kind: "status", status: 429, retryAfter: 1 } : undefined) });
  try {
    const r = await run([`${proxy.host}/team/db`, `${fresh.host}/team/db`, "--latest", "8", "--images", "2"]);
    expect(r.stderr).toBe("");
    expect(summary(r.events)).toMatchObject({ images: 8, copied: 8, failed: 0 });
    const reqs = proxy.requests;
    const throttled = reqs.filter((q) => q.status === 429);
    expect(throttled.length).toBeGreaterThan(1);
    for (const q of throttled) {
      // the throttled request was sent again, not before its Retry-After second had passed…
      const retry = reqs.find((x) => x.n > q.n && x.method === q.method && x.path === q.path && x.search === q.search);
      expect(retry).toBeDefined();
      expect(retry!.at - q.at).toBeGreaterThanOrEqual(950);
      // …and no other request started meanwhile (those already on their way get 100 ms)
      expect(reqs.filter((x) => x.at > q.at + 100 && x.at < q.at + 950)).toEqual([]);
    }
  } finally {
    proxy.stop();
    await fresh.stop();
  }
}, 60_000);

test("--platform keeps one platform of an index; a rerun compares with that platform's manifest and copies nothing", async () => {
  const idx = tinyIndex("tools/cli:latest");
  const arm = idx.children.find((k) => k.arch === "arm64")!;
  const args = ["--platform", "linux/arm64", `${src.host}/tools/cli:latest`, `${dst.host}/plat/cli`];
  const first = await run(args);
  expect(summary(first.events)).toMatchObject({ images: 1, copied: 1 });
  expect(await skopeoInspectDigest(`${dst.host}/plat/cli:latest`)).toBe(arm.manifest.digest);
  const before = loggedRequests(dst.logPath).length;
  const again = await run(args);
  expect(summary(again.events)).toMatchObject({ images: 1, copied: 0, current: 1 });
  expect(since(dst, before).filter(blobOrUpload)).toEqual([]);
});

test("--config sync.yaml: entries with filters; a typo in a key is an error naming it", async () => {
  const cfg = join(t.dir, "sync.yaml");
  await Bun.write(cfg, `sync:\n  - source: ${src.host}/tools/cli\n    target: ${dst.host}/cfg/cli\n    tags:\n      allow: ["1\\\\..*"]\n      semver: ">=1.2"\n  - source: ${src.host}/team/db:main\n    target: ${dst.host}/cfg/db\n`);
  const r = await run(["--config", cfg]);
  expect(r.stderr).toBe("");
  expect(r.events.filter((e) => e.type === "sync-image").map((e) => e.target).sort()).toEqual([`${dst.host}/cfg/cli:1.10`, `${dst.host}/cfg/cli:1.2`, `${dst.host}/cfg/cli:1.9`, `${dst.host}/cfg/db:main`]);
  await Bun.write(cfg, `sync:\n  - source: ${src.host}/tools/cli\n    target: ${dst.host}/cfg/cli\n    tag: ["1.0"]\n`);
  const bad = await imgx(["sync", "--config", cfg]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('unknown key "tag"');
});
