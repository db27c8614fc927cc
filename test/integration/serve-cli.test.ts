// imgx serve's command line: required flags and TLS.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeTlsFiles, startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { imgx, tempDir } from "../helpers/imgx.ts";
import { startServe } from "../helpers/serve.ts";

let reg: RunningRegistry;
const tmp = tempDir("imgx-serve-cli-");

beforeAll(async () => {
  reg = await startRegistry("open");
}, 30_000);
afterAll(async () => {
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve flags", () => {
  test("bad flags: one line each, exit 2, nothing listening", async () => {
    for (const [args, msg] of [
      [[], "pass --registry HOST"],
      [["--registry", reg.host, "--listen", "127.0.0.1:99999"], "port 99999 is over 65535"],
      [["--registry", reg.host, "--auth", "nopassword"], "expected user:password"],
      [["--registry", reg.host, "--auth", "a:b", "--auth-file", "x"], "pick one"],
      [["--registry", reg.host, "--auth-file", join(tmp.dir, "missing")], "Cannot read --auth-file"],
      [["--registry", reg.host, "--tls-cert", "c.pem"], "both --tls-cert and --tls-key"],
      [["--registry", reg.host, "--chunk-size", "65M"], "over 64M"],
    ] as const) {
      const r = await imgx(["serve", ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(msg);
    }
    await Bun.write(join(tmp.dir, "md5.htpasswd"), "bob:$apr1$abc$0123456789abcdefghijkl\n");
    const weak = await imgx(["serve", "--registry", reg.host, "--auth-file", join(tmp.dir, "md5.htpasswd")]);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain("line 1 is not a bcrypt entry (create it with htpasswd -B)");
  });

  test("--tls-cert/--tls-key serve the page over HTTPS", async () => {
    const f = await makeTlsFiles(tmp.dir);
    const s = await startServe(["--registry", reg.host, "--tls-cert", f.cert, "--tls-key", f.key]);
    try {
      expect(s.url).toStartWith("https://");
      const res = await fetch(new URL("/api/config", s.url), { tls: { ca: await Bun.file(f.ca).text() } } as RequestInit);
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).registries).toEqual([reg.host]);
      await expect(fetch(new URL("/api/config", s.url.replace("https:", "http:")))).rejects.toThrow();
    } finally {
      await s.stop();
    }
  }, 30_000);
});
