// The harness itself, checked against skopeo: if these fail, every registry test is suspect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCountingProxy, type CountingProxy } from "../harness/counting-proxy.ts";
import { requirePeers, startRegistries, type RegistryMode, type RunningRegistry } from "../harness/registry.ts";
import { skopeo, skopeoCopy, skopeoInspectDigest } from "../harness/skopeo.ts";
import { tinyImage, writeOciLayout } from "../harness/tiny-image.ts";

const dir = mkdtempSync(join(tmpdir(), "imgx-harness-"));
const img = tinyImage({ seed: "harness" });
const layout = join(dir, "layout");
let regs = {} as Record<RegistryMode, RunningRegistry>;
let proxy: CountingProxy | undefined;

beforeAll(async () => {
  writeOciLayout(layout, img, "t");
  regs = await startRegistries(["open", "basic", "token", "tls"]);
}, 60_000);
afterAll(async () => {
  proxy?.stop();
  await Promise.all(Object.values(regs).map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const creds = (r: RunningRegistry) => `${r.users[0]!.name}:${r.users[0]!.password}`;

describe("harness", () => {
  test("the peers are installed (missing ones fail, never skip)", () => {
    requirePeers();
    expect(() => requirePeers(["imgx-no-such-tool"])).toThrow(/imgx-no-such-tool not installed/);
  });

  test.each(["open", "basic", "token", "tls"] as const)("%s: skopeo pushes and reads back the same digest", async (mode) => {
    const r = regs[mode];
    const c = mode === "basic" || mode === "token" ? creds(r) : undefined;
    await skopeoCopy(`oci:${layout}:t`, `docker://${r.host}/harness/${mode}:t`, { dest: { creds: c } });
    expect(await skopeoInspectDigest(`${r.host}/harness/${mode}:t`, { creds: c })).toBe(img.manifest.digest);
    if (mode === "tls") {
      expect(r.caFile).toBeTruthy();
      expect(r.url.startsWith("https://")).toBe(true);
    }
  }, 30_000);

  test("tls: skopeo with verification on trusts only the harness CA", async () => {
    const r = regs.tls;
    const err = await skopeoInspectDigest(`${r.host}/harness/tls:t`, { tlsVerify: true }).catch((e: Error) => e);
    expect(String(err)).toMatch(/certificate|x509/i);
    const certDir = join(dir, "certs");
    mkdirSync(certDir);
    cpSync(r.caFile!, join(certDir, "ca.crt"));
    const raw = await skopeo(["inspect", "--raw", "--cert-dir", certDir, `docker://${r.host}/harness/tls:t`]);
    expect(JSON.parse(raw).config.digest).toBe(img.config.digest);
  }, 30_000);

  test("basic: a wrong password is refused", async () => {
    const r = regs.basic;
    const err = await skopeoCopy(`oci:${layout}:t`, `docker://${r.host}/harness/wrong:t`, { dest: { creds: `${r.users[0]!.name}:not-the-password` } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/unauthorized|authentication required/i);
    expect(String(err)).not.toContain("not-the-password");
  }, 30_000);

  test("token: anonymous push refused, anonymous pull of public/ allowed, bad password 401", async () => {
    const r = regs.token;
    const ts = r.tokenServer!;
    const anon = await skopeoCopy(`oci:${layout}:t`, `docker://${r.host}/private/app:t`).catch((e: Error) => e);
    expect(String(anon)).toMatch(/unauthorized|denied|authentication required/i);
    await skopeoCopy(`oci:${layout}:t`, `docker://${r.host}/public/app:t`, { dest: { creds: creds(r) } });
    const before = ts.requests.length;
    expect(await skopeoInspectDigest(`${r.host}/public/app:t`)).toBe(img.manifest.digest);
    const anonReqs = ts.requests.slice(before);
    expect(anonReqs.length).toBeGreaterThan(0);
    expect(anonReqs.every((q) => !q.withCredentials && q.service === "imgx-test-registry")).toBe(true);
    expect(anonReqs.some((q) => q.granted.includes("public/app:pull"))).toBe(true);
    const bad = await fetch(`${ts.url}/token?service=imgx-test-registry&scope=repository:public/app:pull`, { headers: { authorization: `Basic ${btoa("alice:wrong")}` } });
    expect(bad.status).toBe(401);
    const ok = await fetch(`${ts.url}/token?service=imgx-test-registry&scope=repository:a:pull,push&scope=repository:b:pull`, { headers: { authorization: `Basic ${btoa(creds(r))}` } });
    const body = (await ok.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.token).toBe(body.access_token);
    const claims = JSON.parse(Buffer.from(body.token.split(".")[1]!, "base64url").toString());
    expect(claims.access).toEqual([
      { type: "repository", name: "a", actions: ["pull", "push"] },
      { type: "repository", name: "b", actions: ["pull"] },
    ]);
    expect(claims.aud).toBe("imgx-test-registry");
  }, 30_000);

  test("counting proxy: skopeo through it, requests counted by pattern, Locations rewritten", async () => {
    proxy = startCountingProxy(regs.open.host);
    await skopeoCopy(`oci:${layout}:t`, `docker://${proxy.host}/via/proxy:t`);
    const c = proxy.counts();
    expect(c["PUT /v2/<name>/manifests/<tag>"]).toBe(1);
    expect((c["POST /v2/<name>/blobs/uploads/"] ?? 0) + (c["PATCH /v2/<name>/blobs/uploads/<id>"] ?? 0)).toBeGreaterThan(0);
    // every upload request after the POST went to the proxy, so every Location was rewritten
    expect(proxy.requests.filter((q) => q.pattern.startsWith("PUT /v2/<name>/blobs/uploads/")).length).toBe(2);
    expect(proxy.requests.reduce((n, q) => n + q.bytesIn, 0)).toBeGreaterThanOrEqual(img.layer.size + img.config.size + img.manifest.size);
    expect(await skopeoInspectDigest(`${regs.open.host}/via/proxy:t`)).toBe(img.manifest.digest);
    // fault hook: the next manifest GET answers 503 with Retry-After
    proxy.setFault((q) => (q.pattern === "GET /v2/<name>/manifests/<tag>" ? { kind: "status", status: 503, retryAfter: 1 } : undefined));
    const res = await fetch(`${proxy.url}/v2/via/proxy/manifests/t`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    await res.body?.cancel();
    proxy.setFault(undefined);
  }, 30_000);

  test("counting proxy faults: flip, truncate and reset a response; reset an upload mid-body", async () => {
    const p = startCountingProxy(regs.open.host);
    try {
      const blobUrl = `${p.url}/v2/harness/open/blobs/${img.layer.digest}`;
      p.setFault(() => ({ kind: "flip", at: 10 }));
      const flipped = new Uint8Array(await (await fetch(blobUrl)).arrayBuffer());
      expect(flipped.length).toBe(img.layer.size);
      expect(flipped.findIndex((b, i) => b !== img.layer.bytes[i])).toBe(10);
      for (const kind of ["truncate", "reset"] as const) {
        p.setFault(() => ({ kind, afterBytes: 20 }));
        const err = await fetch(blobUrl)
          .then((r) => r.arrayBuffer())
          .catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
      }
      p.setFault((q) => (q.method === "PATCH" ? { kind: "reset-request", afterBytes: 1000 } : undefined));
      const start = await fetch(`${p.url}/v2/harness/reset/blobs/uploads/`, { method: "POST" });
      const loc = start.headers.get("location")!;
      expect(loc.startsWith(p.url)).toBe(true);
      const patch = await fetch(loc, { method: "PATCH", body: new Uint8Array(200_000), headers: { "content-length": "200000" } }).catch((e: Error) => e);
      expect(patch).toBeInstanceOf(Error);
      expect(p.requests.at(-1)!.bytesIn).toBeGreaterThanOrEqual(1000);
      expect(p.requests.at(-1)!.bytesIn).toBeLessThan(200_000);
    } finally {
      p.stop();
    }
  }, 30_000);
});
