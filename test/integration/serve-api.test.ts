// imgx serve's JSON API without a browser: every bad input gets a clear refusal and leaves no tag.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { accessLogRequests } from "../harness/access-log.ts";
import { startRegistry, USERS, type RunningRegistry } from "../harness/registry.ts";
import { skopeo } from "../harness/skopeo.ts";
import { IMGX, tempDir } from "../helpers/imgx.ts";
import { call, csrfOf, pushViaApi, startServe, type Serve } from "../helpers/serve.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";

let reg: RunningRegistry;
let other: RunningRegistry;
let s: Serve;
let csrf: string;
const tmp = tempDir("imgx-serve-api-");
const fx = join(tmp.dir, "fx");

async function tagExists(repo: string, tag: string): Promise<boolean> {
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" } });
  return r.status === 200;
}

beforeAll(async () => {
  const g = Bun.spawn([process.execPath, "fixtures/generate.ts", fx], { stdout: "ignore", stderr: "inherit" });
  expect(await g.exited).toBe(0);
  [reg, other] = await Promise.all([startRegistry("open"), startRegistry("open")]);
  s = await startServe(["--registry", reg.host, "--max-upload-size", "64M"]);
  csrf = await csrfOf(s);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await Promise.all([reg?.stop(), other?.stop()]);
  tmp.cleanup();
});

describe("imgx serve API", () => {
  test("a docker-save pushed through the API is tagged, and a second push finds every layer present", async () => {
    const r = await pushViaApi(s, join(fx, "legacy-save.tar"), "api/ok:1", { csrf, chunk: 4096 });
    expect(r.status).toBe(200);
    expect(r.body.digest).toMatch(/^sha256:/);
    expect(await tagExists("api/ok", "1")).toBe(true);
    const again = await pushViaApi(s, join(fx, "legacy-save.tar"), "api/ok:2", { csrf });
    expect(again.status).toBe(200);
    expect(again.steps.every((x) => x.startsWith("present"))).toBe(true);
  }, 60_000);

  test("an OCI archive's gzip layers go up byte for byte (same digests), checked against their blob digest", async () => {
    const arch = join(tmp.dir, "single.oci.tar");
    const conv = Bun.spawn([IMGX, "convert", "--quiet", `oci:${join(fx, "single-oci")}:1.0`, `oci-archive:${arch}`], { stdout: "ignore", stderr: "inherit" });
    expect(await conv.exited).toBe(0);
    const [img] = await readArchive(Bun.file(arch));
    expect(img.format).toBe("oci");
    expect(img.layers.every((l: any) => !l.gzip && l.compression === "gzip")).toBe(true);
    const r = await pushViaApi(s, arch, "api/oci:1", { csrf, chunk: 1000 });
    expect(r.status).toBe(200);
    const m: any = await (await fetch(`${reg.url}/v2/api/oci/manifests/1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json();
    expect(m.layers.map((l: any) => l.digest)).toEqual(img.layers.map((l: any) => l.expect));
    // a flipped byte in a compressed layer is caught by its blob digest
    const bad = await pushViaApi(s, arch, "api/oci-bad:1", { csrf, hashSent: true, mangle: (_l, off, d) => (off === 0 ? Uint8Array.from(d, (x, i) => (i === 20 ? x ^ 1 : x)) : d) });
    expect(bad.status).toBe(422);
    expect(await tagExists("api/oci-bad", "1")).toBe(false);
  }, 30_000);

  test("a docker-archive written by skopeo (symlinked layers, fully qualified RepoTags) goes up with the same diff_ids", async () => {
    const arch = join(tmp.dir, "skopeo-save.tar");
    await skopeo(["copy", `oci:${join(fx, "single-oci")}:1.0`, `docker-archive:${arch}:docker.io/library/sk:1`]);
    const [img] = await readArchive(Bun.file(arch));
    expect(img.names).toEqual(["docker.io/library/sk:1"]);
    const r = await pushViaApi(s, arch, "api/skopeo:1", { csrf });
    expect(r.status).toBe(200);
    const cfg = JSON.parse(await skopeo(["inspect", "--config", "--tls-verify=false", `docker://${reg.host}/api/skopeo:1`]));
    expect(cfg.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
  }, 30_000);

  test("truncated tar: the page's reader refuses it, and a layer that stops early is never committed", async () => {
    const cut = join(tmp.dir, "cut.tar");
    copyFileSync(join(fx, "legacy-save.tar"), cut);
    const full = Bun.file(cut).size;
    truncateSync(cut, Math.floor(full * 0.6));
    await expect(readArchive(Bun.file(cut))).rejects.toThrow(/Truncated tar/);
    // the API side: a layer announced whole but sent only in part cannot be finished
    const [img] = await readArchive(Bun.file(join(fx, "legacy-save.tar")));
    const l = img.layers[0];
    const sess = await call(s, "POST", "/api/uploads", { reference: "api/trunc:1", expect: l.expect, size: l.size, gzip: true }, { csrf });
    const half = new Uint8Array(await Bun.file(join(fx, "legacy-save.tar")).slice(l.offset, l.offset + Math.floor(l.size / 2)).arrayBuffer());
    expect((await call(s, "PUT", `/api/uploads/${sess.body.id}?offset=0`, half, { csrf })).status).toBe(200);
    const fin = await call(s, "POST", `/api/uploads/${sess.body.id}/finish`, {}, { csrf });
    expect(fin.status).toBe(400);
    expect(fin.body.error).toContain("incomplete");
    expect(await tagExists("api/trunc", "1")).toBe(false);
  }, 30_000);

  test("lying sizes: a chunk past the announced layer size is refused, and so is an oversized file", async () => {
    const [img] = await readArchive(Bun.file(join(fx, "legacy-save.tar")));
    const l = img.layers[1];
    const sess = await call(s, "POST", "/api/uploads", { reference: "api/lie:1", expect: l.expect, size: l.size - 100, gzip: true }, { csrf });
    const all = new Uint8Array(await Bun.file(join(fx, "legacy-save.tar")).slice(l.offset, l.offset + l.size).arrayBuffer());
    const put = await call(s, "PUT", `/api/uploads/${sess.body.id}?offset=0`, all, { csrf });
    expect(put.status).toBe(400);
    expect(put.body.error).toMatch(/does not fit layer/);
    const wrongOffset = await call(s, "PUT", `/api/uploads/${sess.body.id}?offset=512`, all.subarray(0, 512), { csrf });
    expect(wrongOffset.status).toBe(409);
    expect(wrongOffset.body.offset).toBe(0);
    const big = await call(s, "POST", "/api/check", { reference: "api/lie:1", fileSize: 65 * 1024 * 1024, layers: [] }, { csrf });
    expect(big.status).toBe(400);
    expect(big.body.error).toContain("--max-upload-size");
    expect(await tagExists("api/lie", "1")).toBe(false);
  }, 30_000);

  test("a layer whose bytes do not match its diff_id is refused at finish and the tag is not written", async () => {
    const flip = (layer: number, offset: number, data: Uint8Array) => {
      if (layer !== 1 || offset !== 0) return data;
      const d = data.slice();
      d[700] ^= 0xff;
      return d;
    };
    // the file itself is wrong (the page hashed what it sent): the diff_id check catches it
    const r = await pushViaApi(s, join(fx, "legacy-save.tar"), "api/flip:1", { csrf, mangle: flip, hashSent: true });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatch(/hash to .* but the image says/);
    // the bytes changed after the page hashed them: refused too
    const t = await pushViaApi(s, join(fx, "legacy-save.tar"), "api/flip:1", { csrf, mangle: flip });
    expect(t.status).toBe(422);
    expect(await tagExists("api/flip", "1")).toBe(false);
    // nor can the image be committed by naming the layer anyway
    const [img] = await readArchive(Bun.file(join(fx, "legacy-save.tar")));
    const fake = `sha256:${"0".repeat(64)}`;
    const commit = await call(s, "POST", "/api/commit", { reference: "api/flip:1", config: Buffer.from(img.configBytes).toString("base64"), format: "docker", layers: img.layers.map((l: any) => ({ expect: l.expect, digest: fake, size: 1, compression: "gzip", gzipped: true })) }, { csrf });
    expect(commit.status).toBe(409);
    expect(commit.body.error).toContain("was not uploaded through this server");
    expect(await tagExists("api/flip", "1")).toBe(false);
  }, 30_000);

  test("a registry not in the allow-list is refused without a request to it", async () => {
    const before = accessLogRequests(other.accessLogPath).length;
    for (const [method, path, body] of [
      ["POST", "/api/check", { reference: `${other.host}/x/y:1`, fileSize: 1, layers: [] }],
      ["POST", "/api/uploads", { reference: `${other.host}/x/y:1`, expect: `sha256:${"1".repeat(64)}`, size: 10, gzip: true }],
      ["GET", `/api/catalog?registry=${encodeURIComponent(other.host)}`, undefined],
      ["GET", `/api/tags?registry=${encodeURIComponent("169.254.169.254")}&repo=x`, undefined],
    ] as const) {
      const r = await call(s, method, path, body, { csrf });
      expect(r.status).toBe(403);
      expect(r.body.error).toContain("is not one this server may use");
    }
    expect(accessLogRequests(other.accessLogPath).length).toBe(before);
  }, 30_000);

  test("state-changing requests need the CSRF token (and our own Origin)", async () => {
    const body = { reference: "api/csrf:1", fileSize: 1, layers: [] };
    for (const o of [{}, { csrf: "0".repeat(64) }]) {
      const r = await call(s, "POST", "/api/check", body, o);
      expect(r.status).toBe(403);
      expect(r.body.error).toContain("CSRF");
    }
    expect((await call(s, "PUT", "/api/uploads/x?offset=0", new Uint8Array(10))).status).toBe(403);
    expect((await call(s, "POST", "/api/commit", {})).status).toBe(403);
    const cross = await fetch(new URL("/api/check", s.url), { method: "POST", headers: { "x-csrf-token": csrf, origin: "http://evil.example", "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(cross.status).toBe(403);
    expect((await call(s, "POST", "/api/check", body, { csrf })).status).toBe(200);
  });

  test("bound to loopback, a foreign Host header (DNS rebinding) gets nothing, not even the CSRF token", async () => {
    const port = new URL(s.url).port;
    const rebound = await fetch(new URL("/api/config", s.url), { headers: { host: `evil.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(await rebound.text()).not.toContain(csrf);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) expect((await fetch(new URL("/api/config", s.url), { headers: { host } })).status).toBe(200);
  });

  test("tags are deleted only with --allow-delete", async () => {
    expect((await pushViaApi(s, join(fx, "legacy-save.tar"), "api/del:1", { csrf })).status).toBe(200);
    const off = await call(s, "DELETE", `/api/tag?registry=${encodeURIComponent(reg.host)}&repo=api/del&ref=1`, undefined, { csrf });
    expect(off.status).toBe(403);
    expect(off.body.error).toContain("--allow-delete");
    expect(await tagExists("api/del", "1")).toBe(true);
    const s2 = await startServe(["--registry", reg.host, "--allow-delete"]);
    try {
      const on = await call(s2, "DELETE", `/api/tag?registry=${encodeURIComponent(reg.host)}&repo=api/del&ref=1`, undefined, { csrf: await csrfOf(s2) });
      expect(on.status).toBe(200);
      expect(await tagExists("api/del", "1")).toBe(false);
    } finally {
      await s2.stop();
    }
  }, 30_000);
});

describe("imgx serve page auth and registry credentials", () => {
  test("wrong page password (--auth and --auth-file) gets 401; the right one gets in", async () => {
    const s1 = await startServe(["--registry", reg.host, "--auth", "ops:s3cret-page"]);
    const hp = join(tmp.dir, "htpasswd");
    writeFileSync(hp, `# users\nkim:${(await Bun.password.hash("kims-pass", { algorithm: "bcrypt", cost: 5 })).replace("$2b$", "$2y$")}\n`);
    const s2 = await startServe(["--registry", reg.host, "--auth-file", hp]);
    try {
      for (const [srv, good, bad] of [[s1, "ops:s3cret-page", "ops:wrong"], [s2, "kim:kims-pass", "kim:kims-pas"]] as const) {
        const none = await fetch(srv.url);
        expect(none.status).toBe(401);
        expect(none.headers.get("www-authenticate")).toContain("Basic");
        expect((await call(srv, "GET", "/api/config", undefined, { auth: bad })).status).toBe(401);
        expect((await call(srv, "GET", "/", undefined, { auth: bad })).status).toBe(401);
        const ok = await call(srv, "GET", "/api/config", undefined, { auth: good });
        expect(ok.status).toBe(200);
        const r = await pushViaApi(srv, join(fx, "docker25-save.tar"), `api/auth${srv === s1 ? 1 : 2}:1`, { auth: good, csrf: ok.body.csrf });
        expect(r.status).toBe(200);
      }
    } finally {
      await Promise.all([s1.stop(), s2.stop()]);
    }
  }, 60_000);

  test("registry credentials stay on the server: a basic-auth registry works, the page never sees the password", async () => {
    const basic = await startRegistry("basic");
    const { name, password } = USERS[0]!;
    const srv = await startServe(["--registry", basic.host, "--creds", `${name}:${password}`]);
    try {
      const cfg = await call(srv, "GET", "/api/config");
      const page = await Promise.all(["/", "/app/main.js", "/app/util.js"].map((p) => fetch(new URL(p, srv.url)).then((r) => r.text())));
      const r = await pushViaApi(srv, join(fx, "legacy-save.tar"), "api/creds:1", { csrf: cfg.body.csrf });
      expect(r.status).toBe(200);
      const cat = await call(srv, "GET", `/api/catalog?registry=${encodeURIComponent(basic.host)}`);
      expect(cat.body.repositories).toContain("api/creds");
      for (const text of [JSON.stringify(cfg.body), ...page, JSON.stringify(r.body), JSON.stringify(cat.body), srv.stderr()]) expect(text).not.toContain(password);
      const noCreds = await startServe(["--registry", basic.host]);
      try {
        const denied = await pushViaApi(noCreds, join(fx, "legacy-save.tar"), "api/creds:2", { csrf: await csrfOf(noCreds) });
        expect(denied.status).toBe(502);
        expect(denied.body.error).not.toContain(password);
      } finally {
        await noCreds.stop();
      }
    } finally {
      await srv.stop();
      await basic.stop();
    }
  }, 60_000);
});
