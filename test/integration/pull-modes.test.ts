// Pull side of the registry transport against the real registry in all four modes: skopeo pushes,
// the compiled imgx reads (digest, tags, inspect, pull); digests must equal skopeo's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { multiarchOci } from "../../fixtures/generate.ts";
import { startRegistry, USERS, type RegistryMode, type RunningRegistry } from "../harness/registry.ts";
import { imgx, imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-pull-");
const p = (n: string) => join(t.dir, n);
const MODES: RegistryMode[] = ["open", "basic", "token", "tls"];
const regs = {} as Record<RegistryMode, RunningRegistry>;
const { name: USER, password: PASS } = USERS[0]!;

/** imgx flags and skopeo flags that reach a registry in the given mode. */
function flags(r: RunningRegistry) {
  const creds = r.users.length ? [`${USER}:${PASS}`] : [];
  return {
    imgx: [...(creds.length ? ["--creds", creds[0]!] : []), ...(r.caFile ? ["--ca-file", r.caFile] : [])],
    skopeo: [...(creds.length ? ["--creds", creds[0]!] : []), "--tls-verify=false"],
    skopeoDest: [...(creds.length ? ["--dest-creds", creds[0]!] : []), "--dest-tls-verify=false"],
  };
}

async function skopeo(args: string[]): Promise<string> {
  const r = await run(["skopeo", ...args]);
  if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
const ok = imgxOk;

beforeAll(async () => {
  requireTool("skopeo");
  requireTool("docker-registry");
  requireTool("openssl");
  await multiarchOci(p("multiarch-oci"));
  const started = await Promise.all(MODES.map((m) => startRegistry(m)));
  MODES.forEach((m, i) => (regs[m] = started[i]!));
  // skopeo pushes a 3-platform OCI index and the same images as a Docker manifest list into each
  await Promise.all(
    MODES.map(async (m) => {
      const r = regs[m];
      const f = flags(r);
      const repo = m === "token" ? "public/app" : "team/app";
      await skopeo(["copy", "-q", "--all", ...f.skopeoDest, `oci:${p("multiarch-oci")}:1.0`, `docker://${r.host}/${repo}:oci`]);
      await skopeo(["copy", "-q", "--all", "--format", "v2s2", ...f.skopeoDest, `oci:${p("multiarch-oci")}:1.0`, `docker://${r.host}/${repo}:list`]);
    }),
  );
}, 90_000);
afterAll(async () => {
  await Promise.all(Object.values(regs).map((r) => r.stop()));
  t.cleanup();
});

describe.each(MODES)("%s registry", (mode) => {
  test("digest, tags, inspect and pull agree with skopeo", async () => {
    const r = regs[mode];
    const f = flags(r);
    const repo = `${r.host}/${mode === "token" ? "public/app" : "team/app"}`;
    const tags = JSON.parse((await ok(["tags", "--json", ...f.imgx, repo])).stdout);
    expect(tags.tags.sort()).toEqual(["list", "oci"]);
    for (const tag of ["oci", "list"]) {
      const ref = `${repo}:${tag}`;
      const sk = JSON.parse(await skopeo(["inspect", ...f.skopeo, `docker://${ref}`]));
      const raw = JSON.parse(await skopeo(["inspect", "--raw", ...f.skopeo, `docker://${ref}`]));
      const d = (await ok(["digest", ...f.imgx, ref])).stdout.trim();
      expect(d).toBe(sk.Digest);
      const ins = JSON.parse((await ok(["inspect", "--json", ...f.imgx, `docker://${ref}`])).stdout);
      expect(ins.digest).toBe(d);
      expect(ins.mediaType).toBe(raw.mediaType);
      const arm64 = raw.manifests.find((m: { platform: { architecture: string } }) => m.platform.architecture === "arm64").digest;
      const out = p(`${mode}-${tag}`);
      const pulled = await ok(["pull", "--platform", "linux/arm64", ...f.imgx, ref, `oci:${out}:x`]);
      // OCI manifests are kept byte for byte; Docker schema2 becomes OCI in an OCI layout, so its digest changes
      if (tag === "oci") expect(pulled.stdout.trim()).toEndWith(arm64);
      // skopeo reads what imgx wrote, and agrees on the platform
      expect(JSON.parse(await skopeo(["inspect", `oci:${out}:x`])).Architecture).toBe("arm64");
      const byDigest = await ok(["digest", ...f.imgx, `${repo}@${arm64}`]);
      expect(byDigest.stdout.trim()).toBe(arm64);
    }
  }, 60_000);
});

describe("auth details against the real registry", () => {
  test("token mode: one token per scope for a whole multi-platform pull, and no token in the --debug trace", async () => {
    const r = regs.token;
    const before = r.tokenServer!.requests.length;
    const res = await ok(["pull", "--debug", "--all-platforms", `${r.host}/public/app:oci`, `oci:${p("tok-all")}:x`]);
    const fetched = r.tokenServer!.requests.slice(before);
    expect(fetched.length).toBe(1);
    expect(fetched[0]!.scopes).toEqual(["repository:public/app:pull"]);
    expect(res.stderr).toContain("authorization: REDACTED");
    expect(res.stderr).not.toMatch(/eyJ[\w-]+\.eyJ/);
  }, 30_000);

  test("basic mode: credentials from a credsStore helper; unknown tag is MANIFEST_UNKNOWN; wrong password UNAUTHORIZED, never printed", async () => {
    const r = regs.basic;
    const bin = p("bin");
    const store = p("helper-store");
    mkdirSync(bin, { recursive: true });
    mkdirSync(store, { recursive: true });
    writeFileSync(
      join(bin, "docker-credential-test"),
      `#!/bin/sh\nin=$(cat)\ncase "$1" in\n get) if [ -f "${store}/creds" ]; then cat "${store}/creds"; else echo "credentials not found"; exit 1; fi ;;\n store) printf '%s' "$in" > "${store}/creds" ;;\n erase) rm -f "${store}/creds" ;;\nesac\n`,
    );
    chmodSync(join(bin, "docker-credential-test"), 0o755);
    const cfg = p("cfg-helper");
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, "config.json"), JSON.stringify({ credsStore: "test" }));
    const env = { DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH}` };
    const login = await imgx(["login", "-u", USER, "--password-stdin", r.host], { env, stdin: `${PASS}\n` });
    expect(login.code).toBe(0);
    expect(readFileSync(join(cfg, "config.json"), "utf8")).not.toContain(PASS);
    expect(JSON.parse(readFileSync(join(store, "creds"), "utf8"))).toEqual({ ServerURL: r.host, Username: USER, Secret: PASS });
    expect((await ok(["digest", `${r.host}/team/app:oci`], env)).stdout).toStartWith("sha256:");
    const unknown = await imgx(["digest", `${r.host}/team/app:missing`], { env });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("manifest unknown");
    const bad = await imgx(["tags", "--debug", "--creds", `${USER}:wrong-pass-777`, `${r.host}/team/app`]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("UNAUTHORIZED");
    expect(bad.stderr + bad.stdout).not.toContain("wrong-pass-777");
    const badLogin = await imgx(["login", "-u", USER, "--password-stdin", r.host], { env, stdin: "wrong-pass-777\n" });
    expect(badLogin.code).toBe(4);
    expect(badLogin.stderr).not.toContain("wrong-pass-777");
    await ok(["logout", r.host], env);
    expect(existsSync(join(store, "creds"))).toBe(false);
  }, 30_000);
});
