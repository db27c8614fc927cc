import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eraseCredentials, lookupCredentials, storeCredentials } from "../../src/transports/registry/credentials.ts";

const root = mkdtempSync(join(tmpdir(), "imgx-creds-"));
const bin = join(root, "bin");
const store = join(root, "helper-store");
mkdirSync(bin);
mkdirSync(store);
// A fake docker credential helper: one file per server URL, the protocol of docker-credential-helpers.
writeFileSync(
  join(bin, "docker-credential-test"),
  `#!/bin/sh
set -e
key=$(printf '%s' "$1" >/dev/null; cat)
case "$1" in
  get)
    f="${store}/$(printf '%s' "$key" | sha256sum | cut -c1-16)"
    if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store)
    url=$(printf '%s' "$key" | sed -n 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/p')
    printf '%s' "$key" > "${store}/$(printf '%s' "$url" | sha256sum | cut -c1-16)" ;;
  erase)
    rm -f "${store}/$(printf '%s' "$key" | sha256sum | cut -c1-16)" ;;
esac
`,
);
chmodSync(join(bin, "docker-credential-test"), 0o755);

const saved = { ...process.env };
let cfgDir: string;
beforeEach(() => {
  cfgDir = mkdtempSync(join(root, "cfg-"));
  process.env.DOCKER_CONFIG = cfgDir;
  process.env.PATH = `${bin}:${saved.PATH}`;
  delete process.env.IMGX_USERNAME;
  delete process.env.IMGX_PASSWORD;
});
afterEach(() => {
  for (const k of ["DOCKER_CONFIG", "PATH", "IMGX_USERNAME", "IMGX_PASSWORD"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const writeCfg = (cfg: unknown) => writeFileSync(join(cfgDir, "config.json"), JSON.stringify(cfg));
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("credential lookup", () => {
  test("explicit flags beat env, env beats config.json", async () => {
    writeCfg({ auths: { "r.example.com": { auth: b64("cfg:cfgpw") } } });
    process.env.IMGX_USERNAME = "env";
    process.env.IMGX_PASSWORD = "envpw";
    expect(await lookupCredentials("r.example.com", { username: "flag", password: "flagpw" })).toEqual({ username: "flag", password: "flagpw" });
    expect(await lookupCredentials("r.example.com", {})).toEqual({ username: "env", password: "envpw" });
    delete process.env.IMGX_USERNAME;
    expect((await lookupCredentials("r.example.com", {}))?.username).toBe("cfg");
  });

  test("auths: base64 auth (password with colons), username/password, https:// keys, identitytoken", async () => {
    writeCfg({
      auths: {
        "https://a.example.com": { auth: b64("alice:pa:ss") },
        "b.example.com:5000": { username: "bob", password: "pw" },
        "c.example.com": { identitytoken: "refresh-me" },
      },
    });
    expect(await lookupCredentials("a.example.com", {})).toEqual({ username: "alice", password: "pa:ss", identityToken: undefined });
    expect(await lookupCredentials("b.example.com:5000", {})).toEqual({ username: "bob", password: "pw" });
    expect((await lookupCredentials("c.example.com", {}))?.identityToken).toBe("refresh-me");
    expect(await lookupCredentials("other.example.com", {})).toBeUndefined();
  });

  test("Docker Hub credentials live under https://index.docker.io/v1/", async () => {
    writeCfg({ auths: { "https://index.docker.io/v1/": { auth: b64("hubuser:hubpw") } } });
    for (const r of ["docker.io", "registry-1.docker.io", "index.docker.io"]) expect((await lookupCredentials(r, {}))?.username).toBe("hubuser");
  });

  test("credHelpers and credsStore run docker-credential-NAME get with the server URL on stdin", async () => {
    await storeCredentials("helped.example.com", "hu", "hpw"); // no helper configured yet: goes to auths
    writeCfg({ credHelpers: { "helped.example.com": "test" } });
    expect(await lookupCredentials("helped.example.com", {})).toBeUndefined(); // helper has nothing yet
    writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ credsStore: "test" }));
    await storeCredentials("helped.example.com", "hu", "hpw");
    const cfg = JSON.parse(readFileSync(join(cfgDir, "config.json"), "utf8"));
    expect(cfg.credsStore).toBe("test");
    expect(JSON.stringify(cfg)).not.toContain("hpw"); // the secret went to the helper only
    expect(await lookupCredentials("helped.example.com", {})).toEqual({ username: "hu", password: "hpw" });
    writeCfg({ credHelpers: { "helped.example.com": "test" } });
    expect(await lookupCredentials("helped.example.com", {})).toEqual({ username: "hu", password: "hpw" });
    expect(await eraseCredentials("helped.example.com")).toBe(true);
    expect(await lookupCredentials("helped.example.com", {})).toBeUndefined();
  });

  test("a configured helper that is not installed does not break lookups", async () => {
    writeCfg({ credsStore: "desktop-not-installed", auths: { "r.example.com": { auth: b64("u:p") } } });
    expect((await lookupCredentials("r.example.com", {}))?.username).toBe("u");
  });
});

describe("store and erase", () => {
  test("login writes auths[server].auth, keeps other keys, mode 0600; logout removes it", async () => {
    writeCfg({ auths: { "keep.example.com": { auth: b64("k:k") } }, proxies: { default: {} }, HttpHeaders: { "X-Y": "z" } });
    await storeCredentials("localhost:5000", "alice", "s3cret");
    await storeCredentials("docker.io", "hub", "hubpw");
    const p = join(cfgDir, "config.json");
    const cfg = JSON.parse(readFileSync(p, "utf8"));
    expect(cfg.auths["localhost:5000"].auth).toBe(b64("alice:s3cret"));
    expect(cfg.auths["https://index.docker.io/v1/"].auth).toBe(b64("hub:hubpw"));
    expect(cfg.auths["keep.example.com"]).toBeDefined();
    expect(cfg.proxies).toEqual({ default: {} });
    expect(cfg.HttpHeaders).toEqual({ "X-Y": "z" });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(await eraseCredentials("localhost:5000")).toBe(true);
    expect(await eraseCredentials("localhost:5000")).toBe(false);
    expect(JSON.parse(readFileSync(p, "utf8")).auths["keep.example.com"]).toBeDefined();
  });

  test("config.json is created when DOCKER_CONFIG's directory does not exist yet", async () => {
    process.env.DOCKER_CONFIG = join(cfgDir, "new", "dir");
    await storeCredentials("r.example.com", "u", "p");
    expect(JSON.parse(readFileSync(join(cfgDir, "new", "dir", "config.json"), "utf8")).auths["r.example.com"].auth).toBe(b64("u:p"));
  });
});
