import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { startRegistry, USERS, type RunningRegistry } from "../harness/registry.ts";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";
import { parseImageName } from "../../src/core/reference.ts";

const t = tempDir("imgx-reg-");
const fx = join(t.dir, "fx");
const p = (n: string) => join(t.dir, n);
const regs: Record<string, RunningRegistry> = {};
const { name: USER, password: PASS } = USERS[0]!;
const CREDS = `${USER}:${PASS}`;

beforeAll(async () => {
  requireTool("skopeo");
  requireTool("docker-registry");
  await generateAll(fx);
  const [open, basic, token, tls, open2] = await Promise.all((["open", "basic", "token", "tls", "open"] as const).map((m) => startRegistry(m)));
  Object.assign(regs, { open, basic, token, tls, open2 });
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(regs).map((r) => r.stop()));
  t.cleanup();
});

const ok = imgxOk;
async function skopeo(args: string[]) {
  const r = await run(["skopeo", ...args]);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const skDigest = async (ref: string, extra: string[] = []) => JSON.parse(await skopeo(["inspect", "--tls-verify=false", ...extra, `docker://${ref}`])).Digest as string;
const skRawDigest = async (ref: string, extra: string[] = []) => new Bun.CryptoHasher("sha256").update(await skopeo(["inspect", "--raw", "--tls-verify=false", ...extra, `docker://${ref}`])).digest("hex");
const pushedDigest = (stdout: string) => stdout.trim().split("@").pop()!;

describe("pull (skopeo pushes, imgx pulls)", () => {
  test("OCI index and Docker manifest list: platform selection, digests equal skopeo's", async () => {
    const h = regs.open!.host;
    await skopeo(["copy", "-q", "--all", "--dest-tls-verify=false", `oci:${join(fx, "multiarch-oci")}:1.0`, `docker://${h}/team/multi:1`]);
    await skopeo(["copy", "-q", "--all", "--format", "v2s2", "--dest-tls-verify=false", `oci:${join(fx, "multiarch-oci")}:1.0`, `docker://${h}/team/list:1`]);
    for (const repo of ["multi", "list"]) {
      const ref = `${h}/team/${repo}:1`;
      const d = (await ok(["digest", ref])).stdout.trim();
      expect(d).toBe(await skDigest(ref));
      await ok(["pull", "--platform", "linux/arm/v7", ref, p(`pull-${repo}`)]);
      const got = JSON.parse((await ok(["inspect", "--json", p(`pull-${repo}`)])).stdout);
      expect(got.config.architecture).toBe("arm");
      const index = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${ref}`]));
      const skArm = index.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === "arm").digest;
      expect(JSON.parse((await ok(["inspect", "--json", "--platform", "linux/arm/v7", `docker://${ref}`])).stdout).manifest.digest).toBe(skArm);
      await ok(["pull", "--all-platforms", ref, `oci:${p(`all-${repo}`)}:1`]);
      const all = JSON.parse((await ok(["inspect", "--json", "--all-platforms", `oci:${p(`all-${repo}`)}:1`])).stdout);
      // an OCI index is kept byte for byte; a Docker manifest list becomes an OCI index in an OCI layout
      if (repo === "multi") expect(all.digest).toBe(d);
      else expect(all.mediaType).toBe("application/vnd.oci.image.index.v1+json");
      expect(all.platforms.length).toBe(3);
    }
    const tags = JSON.parse((await ok(["tags", "--json", `${h}/team/multi`])).stdout);
    expect(tags.tags).toEqual(["1"]);
    const none = await imgx(["pull", "--platform", "linux/s390x", `${h}/team/multi:1`, p("none")]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("linux/amd64, linux/arm64, linux/arm/v7");
  }, 60_000);

  test("pull formats: oci-archive and docker-archive that skopeo reads back", async () => {
    const ref = `${regs.open!.host}/team/multi:1`;
    await ok(["pull", "--platform", "linux/amd64", "--format", "docker-archive", ref, p("pulled.tar")]);
    await ok(["pull", "--platform", "linux/amd64", `docker://${ref}`, `oci-archive:${p("pulled.oci.tar")}`]);
    expect(JSON.parse(await skopeo(["inspect", `docker-archive:${p("pulled.tar")}`])).Architecture).toBe("amd64");
    expect(JSON.parse(await skopeo(["inspect", `oci-archive:${p("pulled.oci.tar")}`])).Architecture).toBe("amd64");
  }, 30_000);

  test("bad input: unknown tag, unreachable host, corrupt blob in storage", async () => {
    const h = regs.open!.host;
    const unknown = await imgx(["pull", `${h}/team/multi:nope`, p("x1")]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("MANIFEST_UNKNOWN");
    const dead = await imgx(["pull", "--timeout", "5", "127.0.0.1:9/a/b:1", p("x2")]);
    expect(dead.code).toBe(5);
    expect(dead.stderr.trim().split("\n").length).toBe(1);
    expect(dead.stderr).toContain("127.0.0.1:9");
    // corrupt one layer file inside the registry's storage
    await ok(["push", `oci:${join(fx, "single-oci")}:1.0`, `${h}/team/corrupt:1`]);
    const m = JSON.parse((await ok(["inspect", "--json", `${h}/team/corrupt:1`])).stdout);
    const layer = m.layers[0].digest.slice(7);
    const data = join(regs.open!.storageDir, "docker/registry/v2/blobs/sha256", layer.slice(0, 2), layer, "data");
    const b = readFileSync(data);
    b[b.length - 5] ^= 0xff;
    writeFileSync(data, b);
    const bad = await imgx(["pull", "-q", `${h}/team/corrupt:1`, p("corrupt")]);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toContain("content has digest");
    expect(existsSync(p("corrupt"))).toBe(false);
    b[b.length - 5] ^= 0xff; // blobs are shared across repositories: repair it for the other tests
    writeFileSync(data, b);
  }, 60_000);
});

describe("push (imgx pushes, skopeo pulls)", () => {
  test.each([
    ["legacy docker-save", "legacy-save.tar"],
    ["Docker 25 docker-save", "docker25-save.tar"],
    ["OCI layout", "oci:FX/single-oci:1.0"],
  ])("%s", async (_, src) => {
    const h = regs.open!.host;
    const source = src.replace("FX", fx).replace(/^([\w-]+\.tar)$/, `${fx}/$1`);
    const name = `push/${src.replace(/\W/g, "").toLowerCase()}:v1`;
    const r = await ok(["push", source, `${h}/${name}`, "--tag", "1.10"]);
    const digest = pushedDigest(r.stdout);
    expect(await skRawDigest(`${h}/${name}`)).toBe(digest.slice(7));
    expect(await skRawDigest(`${h}/${name.replace(":v1", ":1.10")}`)).toBe(digest.slice(7));
    await skopeo(["copy", "-q", "--src-tls-verify=false", `docker://${h}/${name}`, `oci:${p(`back-${src.replace(/\W/g, "")}`)}:x`]);
  }, 30_000);

  test("OCI archive and a 3-platform index with --all-platforms", async () => {
    const h = regs.open!.host;
    await ok(["convert", "--all-platforms", `oci:${join(fx, "multiarch-oci")}:1.0`, `oci-archive:${p("multi.oci.tar")}`]);
    const r = await ok(["push", "--all-platforms", `oci-archive:${p("multi.oci.tar")}`, `${h}/push/multi:1`]);
    expect(await skRawDigest(`${h}/push/multi:1`)).toBe(pushedDigest(r.stdout).slice(7));
    await skopeo(["copy", "-q", "--all", "--src-tls-verify=false", `docker://${h}/push/multi:1`, `oci:${p("sk-multi")}:x`]);
  }, 30_000);

  test("--format oci / docker rewrites media types consistently; --compress zstd", async () => {
    const h = regs.open!.host;
    const oci = await ok(["push", "--format", "oci", join(fx, "legacy-save.tar"), `${h}/fmt/app:oci`]);
    const m = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${h}/fmt/app:oci`]));
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(m.config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    expect(m.layers.every((l: { mediaType: string }) => l.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip")).toBe(true);
    expect(await skRawDigest(`${h}/fmt/app:oci`)).toBe(pushedDigest(oci.stdout).slice(7));
    await ok(["push", "--format", "docker", `oci:${join(fx, "single-oci")}:1.0`, `${h}/fmt/app:docker`]);
    const d = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${h}/fmt/app:docker`]));
    expect(d.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(d.layers.every((l: { mediaType: string }) => l.mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip")).toBe(true);
    await ok(["push", "--compress", "zstd", "--format", "oci", join(fx, "legacy-save.tar"), `${h}/fmt/app:zstd`]);
    const z = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${h}/fmt/app:zstd`]));
    expect(z.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
    // the uncompressed digests stay in the config: pull it back as docker-archive and compare layers
    await ok(["pull", "--format", "docker-archive", `${h}/fmt/app:zstd`, p("zstd-back.tar")]);
    const back = JSON.parse((await ok(["inspect", "--json", p("zstd-back.tar")])).stdout);
    const orig = JSON.parse((await ok(["inspect", "--json", join(fx, "legacy-save.tar")])).stdout);
    expect(back.layers.map((l: { digest: string }) => l.digest)).toEqual(orig.layers.map((l: { digest: string }) => l.digest));
  }, 30_000);

  test("re-push uploads no blob again; copy to another repository mounts", async () => {
    const h = regs.open!.host;
    const src = join(fx, "legacy-save.tar");
    await ok(["push", src, `${h}/again/app:1`]);
    const before = loggedRequests(regs.open!.logPath).length;
    const r = await ok(["push", "--json", src, `${h}/again/app:1`]);
    const after = loggedRequests(regs.open!.logPath).slice(before);
    expect(after.filter((q) => q.method === "PATCH" || q.method === "POST" || (q.method === "PUT" && q.uri.includes("/blobs/")))).toEqual([]);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(summary.type).toBe("summary");
    expect(summary.blobs.copied).toBe(0);
    const c = await ok(["copy", "--json", `${h}/again/app:1`, `${h}/other/app:1`]);
    const mounted = c.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === "blob-done" && e.state === "mounted");
    expect(mounted.length).toBe(4);
    expect(await skRawDigest(`${h}/other/app:1`)).toBe(await skRawDigest(`${h}/again/app:1`));
  }, 30_000);

  test("chunked upload of a blob larger than the chunk size, with Content-Length on every PATCH", async () => {
    const h = regs.open!.host;
    const before = loggedRequests(regs.open!.logPath).length;
    const r = await ok(["push", "--upload-mode", "chunked", "--chunk-size", "1024", `oci:${join(fx, "single-oci")}:1.0`, `${h}/chunked/app:1`]);
    const patches = loggedRequests(regs.open!.logPath).slice(before).filter((q) => q.method === "PATCH");
    expect(patches.length).toBeGreaterThan(10);
    expect(patches.every((q) => q.status === 202 && q.userAgent.startsWith("imgx/"))).toBe(true);
    expect(await skRawDigest(`${h}/chunked/app:1`)).toBe(pushedDigest(r.stdout).slice(7));
  }, 30_000);

  test("registry → registry copy between two registries", async () => {
    const r = await ok(["copy", `${regs.open!.host}/again/app:1`, `${regs.open2!.host}/copied/app:1`]);
    expect(await skRawDigest(`${regs.open2!.host}/copied/app:1`)).toBe(pushedDigest(r.stdout).slice(7));
  }, 30_000);

  test("the registry rejecting a manifest shows its code and message", async () => {
    const h = regs.open!.host;
    const m = JSON.parse(readFileSync(join(fx, "single-oci", "index.json"), "utf8")).manifests[0];
    const bytes = readFileSync(join(fx, "single-oci", "blobs", "sha256", m.digest.slice(7)));
    const sink = await openRegistrySink(parseDockerReference(`${h}/reject/app:1`), {});
    const err = await sink.putManifest({ mediaType: m.mediaType, digest: m.digest, size: bytes.length }, bytes, ["1"].map(parseImageName), true).catch((e) => e);
    expect(err.message).toContain("MANIFEST_BLOB_UNKNOWN");
    expect(err.message).toContain("reject/app:1");
  });

  test("a source with a missing blob fails naming it, and no tag is pushed", async () => {
    const h = regs.open!.host;
    const broken = p("missing-blob-oci");
    cpSync(join(fx, "single-oci"), broken, { recursive: true });
    const idx = JSON.parse(readFileSync(join(broken, "index.json"), "utf8"));
    const man = JSON.parse(readFileSync(join(broken, "blobs", "sha256", idx.manifests[0].digest.slice(7)), "utf8"));
    rmSync(join(broken, "blobs", "sha256", man.layers[1].digest.slice(7)));
    const r = await imgx(["push", `oci:${broken}:1.0`, `${h}/missing/app:1`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(man.layers[1].digest);
    const res = await fetch(`http://${h}/v2/missing/app/manifests/1`, { method: "HEAD" });
    expect(res.status).toBe(404);
  });
});

describe("auth and TLS modes", () => {
  test("basic: push and pull with credentials; a wrong password is refused without being printed", async () => {
    const h = regs.basic!.host;
    const pushed = pushedDigest((await ok(["push", "--creds", CREDS, join(fx, "docker25-save.tar"), `${h}/b/app:1`])).stdout);
    await ok(["pull", "-u", USER, "--password", PASS, `${h}/b/app:1`, p("basic-pull")]);
    // the manifest skopeo reads with the same credentials is, byte for byte, the one imgx pushed
    expect(`sha256:${await skRawDigest(`${h}/b/app:1`, ["--creds", CREDS])}`).toBe(pushed);
    const bad = await imgx(["pull", "--debug", "--creds", `${USER}:not-the-password-123`, `${h}/b/app:1`, p("basic-bad")]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("UNAUTHORIZED");
    expect(bad.stderr + bad.stdout).not.toContain("not-the-password-123");
    expect(bad.stderr).not.toContain(Buffer.from(`${USER}:not-the-password-123`).toString("base64"));
  }, 30_000);

  test("token: anonymous pull of public/, anonymous push refused naming the repository, login via DOCKER_CONFIG", async () => {
    const h = regs.token!.host;
    const cfg = p("docker-config");
    const env = { DOCKER_CONFIG: cfg };
    const anon = await imgx(["push", join(fx, "legacy-save.tar"), `${h}/private/app:1`], { env });
    expect(anon.code).toBe(4);
    expect(anon.stderr).toContain("private/app");
    const login = await imgx(["login", "--password-stdin", "-u", USER, h], { env, stdin: `${PASS}\n` });
    expect(login.code).toBe(0);
    await ok(["push", join(fx, "legacy-save.tar"), `${h}/public/app:1`], env);
    const stored = readFileSync(join(cfg, "config.json"), "utf8");
    expect(JSON.parse(stored).auths[h].auth).toBe(Buffer.from(CREDS).toString("base64"));
    expect((statSync(join(cfg, "config.json")).mode & 0o777).toString(8)).toBe("600");
    const pub = await imgx(["pull", "--debug", `${h}/public/app:1`, p("token-pull")]);
    expect(pub.code).toBe(0);
    expect(pub.stderr).toContain("credentials=no");
    const tokens = regs.token!.tokenServer!.requests.length;
    expect(pub.stderr).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(tokens).toBeGreaterThan(0);
    const wrong = await imgx(["login", "--password-stdin", "-u", USER, h], { env, stdin: "wrong-password-xyz\n" });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).not.toContain("wrong-password-xyz");
    await ok(["logout", h], env);
    expect(JSON.parse(readFileSync(join(cfg, "config.json"), "utf8")).auths[h]).toBeUndefined();
  }, 30_000);

  test("registry → registry copy with different credentials on each side (basic → token)", async () => {
    const src = `${regs.basic!.host}/b/app:1`;
    await ok(["push", "--creds", CREDS, join(fx, "docker25-save.tar"), src]);
    const dst = `${regs.token!.host}/copied/app:1`;
    const anon = await imgx(["copy", "--src-creds", CREDS, src, dst]);
    expect(anon.code).toBe(4);
    const r = await ok(["copy", "--src-creds", CREDS, "--dest-creds", CREDS, src, dst]);
    expect(await skRawDigest(dst, ["--creds", CREDS])).toBe(pushedDigest(r.stdout).slice(7));
    expect(await skRawDigest(src, ["--creds", CREDS])).toBe(pushedDigest(r.stdout).slice(7));
  }, 30_000);

  test("--mount-from mounts blobs another repository of the same registry holds", async () => {
    const h = regs.token!.host;
    await ok(["push", "--creds", CREDS, `oci:${join(fx, "single-oci")}:1.0`, `${h}/team/base:1`]);
    const r = await ok(["push", "--json", "--creds", CREDS, "--mount-from", "team/base", `oci:${join(fx, "single-oci")}:1.0`, `${h}/team/derived:1`]);
    const states = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === "blob-done").map((e) => e.state);
    expect(states.sort()).toEqual(["mounted", "mounted", "mounted"]);
  }, 30_000);

  test("TLS: --ca-file trusts the private CA, an untrusted certificate is an error, --tls-verify=false skips", async () => {
    const h = regs.tls!.host;
    await ok(["push", "--ca-file", regs.tls!.caFile!, join(fx, "legacy-save.tar"), `${h}/t/app:1`]);
    const untrusted = await imgx(["pull", `${h}/t/app:1`, p("tls-bad")]);
    expect(untrusted.code).toBe(5);
    expect(untrusted.stderr).toContain("certificate");
    expect(existsSync(p("tls-bad"))).toBe(false);
    await ok(["pull", "--tls-verify=false", `${h}/t/app:1`, p("tls-ok")]);
    expect(readdirSync(p("tls-ok"))).toContain("index.json");
  }, 30_000);
});
