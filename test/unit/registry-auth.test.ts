import { afterEach, describe, expect, setSystemTime, test } from "bun:test";
import { Authenticator, checkRealm } from "../../src/transports/registry/auth.ts";
import { parseWwwAuthenticate } from "../../src/transports/registry/challenge.ts";
import { registryError } from "../../src/transports/registry/errors.ts";
import { redactHeaders, redactUrl } from "../../src/transports/registry/redact.ts";

describe("WWW-Authenticate", () => {
  test("Bearer with quoted values containing commas", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"');
    expect(c).toEqual({ scheme: "bearer", params: { realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:a/b:pull,push" } });
  });
  test("Basic, unquoted values, case and whitespace", () => {
    expect(parseWwwAuthenticate('basic  Realm="imgx test"')).toEqual([{ scheme: "basic", params: { realm: "imgx test" } }]);
    expect(parseWwwAuthenticate("Bearer realm=https://a/t, service=reg")[0]!.params).toEqual({ realm: "https://a/t", service: "reg" });
  });
  test("several challenges in one header, escaped quotes", () => {
    const cs = parseWwwAuthenticate('Basic realm="r\\"1", Bearer realm="https://t/x",scope="repository:x:pull,push",error="insufficient_scope"');
    expect(cs.map((c) => c.scheme)).toEqual(["basic", "bearer"]);
    expect(cs[0]!.params.realm).toBe('r"1');
    expect(cs[1]!.params).toEqual({ realm: "https://t/x", scope: "repository:x:pull,push", error: "insufficient_scope" });
  });
});

describe("realm validation", () => {
  const https = new URL("https://registry.example.com/");
  test("plain-http realm for an https registry is refused", () => {
    expect(() => checkRealm(https, "http://auth.example.com/token")).toThrow(/plain-http token realm/);
  });
  test("loopback and private realms of a public registry are refused", () => {
    for (const r of ["https://127.0.0.1/t", "https://localhost:8080/t", "https://10.1.2.3/t", "https://192.168.0.1/t", "https://[::1]/t", "https://169.254.169.254/latest"])
      expect(() => checkRealm(https, r), r).toThrow(/loopback or private address/);
  });
  test("address spellings that hide a loopback or private host are refused", () => {
    const https = new URL("https://registry.example.com/");
    for (const r of ["https://[::ffff:127.0.0.1]:8080/t", "https://[::ffff:10.1.2.3]/t", "https://[::ffff:7f00:1]/t", "https://[fe90::1]/t", "https://[fd12:3456::1]/t", "https://100.64.1.1/t", "https://0x7f.1/t", "https://2130706433/t", "https://0.0.0.0/t", "https://[::]/t"])
      expect(() => checkRealm(https, r), r).toThrow(/loopback or private address/);
    for (const r of ["https://100.63.0.1/t", "https://172.32.0.1/t", "https://[2001:db8::1]/t", "https://[::ffff:8.8.8.8]/t"]) expect(checkRealm(https, r).protocol).toBe("https:");
  });

  test("the registry's own host, public hosts, and loopback pairs are allowed", () => {
    expect(checkRealm(https, "https://auth.example.com/token").host).toBe("auth.example.com");
    expect(checkRealm(new URL("https://10.0.0.5:5000/"), "https://10.0.0.5:5001/token").port).toBe("5001");
    expect(checkRealm(new URL("http://127.0.0.1:5000/"), "http://127.0.0.1:41000/token").port).toBe("41000");
    expect(checkRealm(new URL("http://localhost:5000/"), "http://127.0.0.1:41000/token").hostname).toBe("127.0.0.1");
    expect(() => checkRealm(new URL("https://10.0.0.5/"), "https://10.0.0.6/token")).toThrow(/private address/);
  });
  test("non-URL and non-http realms are refused", () => {
    expect(() => checkRealm(https, "not a url")).toThrow(/not a URL/);
    expect(() => checkRealm(https, "file:///etc/passwd")).toThrow(/not http/);
  });
});

describe("token cache", () => {
  afterEach(() => setSystemTime());
  function fakeRealm(body: Record<string, unknown>) {
    const calls: { url: string; auth?: string }[] = [];
    const fetchFn = async (url: string, init: RequestInit) => {
      calls.push({ url, auth: (init.headers as Record<string, string>).authorization });
      return Response.json(body);
    };
    return { calls, fetchFn };
  }
  const challenge = { scheme: "bearer", params: { realm: "https://auth.example.com/token", service: "reg" } };

  test("missing expires_in means 60 s; tokens are cached per scope; access_token accepted", async () => {
    setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const f = fakeRealm({ access_token: "tok-1" });
    const a = new Authenticator(new URL("https://registry.example.com/"), undefined, undefined, f.fetchFn);
    a.setChallenge(challenge);
    expect(await a.header(["repository:a:pull"])).toBe("Bearer tok-1");
    expect(await a.header(["repository:a:pull"])).toBe("Bearer tok-1");
    expect(f.calls.length).toBe(1);
    expect(f.calls[0]!.url).toBe("https://auth.example.com/token?service=reg&scope=repository%3Aa%3Apull");
    expect(f.calls[0]!.auth).toBeUndefined(); // anonymous
    await a.header(["repository:b:pull"]);
    expect(f.calls.length).toBe(2);
    setSystemTime(new Date("2030-01-01T00:00:45Z"));
    await a.header(["repository:a:pull"]);
    expect(f.calls.length).toBe(2);
    setSystemTime(new Date("2030-01-01T00:01:01Z"));
    await a.header(["repository:a:pull"]);
    expect(f.calls.length).toBe(3);
  });

  test("expires_in is honoured; credentials go to the realm as Basic; invalidate forces a new token", async () => {
    setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const f = fakeRealm({ token: "tok-2", expires_in: 600 });
    const a = new Authenticator(new URL("https://registry.example.com/"), { username: "u", password: "p:w" }, undefined, f.fetchFn);
    a.setChallenge(challenge);
    await a.header(["repository:a:pull,push"]);
    expect(f.calls[0]!.auth).toBe(`Basic ${Buffer.from("u:p:w").toString("base64")}`);
    setSystemTime(new Date("2030-01-01T00:09:00Z"));
    await a.header(["repository:a:pull,push"]);
    expect(f.calls.length).toBe(1);
    a.invalidate(["repository:a:pull,push"]);
    await a.header(["repository:a:pull,push"]);
    expect(f.calls.length).toBe(2);
  });

  test("concurrent requests for one scope share one token fetch", async () => {
    const f = fakeRealm({ token: "t" });
    const a = new Authenticator(new URL("https://registry.example.com/"), undefined, undefined, f.fetchFn);
    a.setChallenge(challenge);
    await Promise.all([1, 2, 3, 4].map(() => a.header(["repository:a:pull"])));
    expect(f.calls.length).toBe(1);
  });

  test("registryToken is used as is; Basic challenge sends credentials", async () => {
    const f = fakeRealm({ token: "t" });
    const fixed = new Authenticator(new URL("https://r.example.com/"), { username: "u", password: "p" }, "given-token", f.fetchFn);
    fixed.setChallenge(challenge);
    expect(await fixed.header(["repository:a:pull"])).toBe("Bearer given-token");
    const basic = new Authenticator(new URL("https://r.example.com/"), { username: "u", password: "p" }, undefined, f.fetchFn);
    basic.setChallenge({ scheme: "basic", params: {} });
    expect(await basic.header(["repository:a:pull"])).toBe(`Basic ${btoa("u:p")}`);
    expect(f.calls.length).toBe(0);
  });

  test("a refused password is UNAUTHORIZED without the password in the message", async () => {
    const a = new Authenticator(new URL("https://r.example.com/"), { username: "u", password: "hunter2-secret" }, undefined, async () => new Response("{}", { status: 401 }));
    a.setChallenge(challenge);
    const e = await a.header(["repository:a:pull"]).catch((x) => x);
    expect(e.code).toBe("UNAUTHORIZED");
    expect(e.message).toContain('"u"');
    expect(e.message).not.toContain("hunter2");
  });
});

describe("registry errors and redaction", () => {
  const res = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
  test("distribution codes map to ImgxError codes, naming the subject", async () => {
    const e = await registryError(res(404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }), "fetch manifest", "r/x:1");
    expect([e.code, e.message]).toEqual(["MANIFEST_UNKNOWN", 'Cannot fetch manifest "r/x:1": MANIFEST_UNKNOWN: manifest unknown']);
    expect((await registryError(res(400, { errors: [{ code: "DIGEST_INVALID", message: "bad" }] }), "push", "x")).code).toBe("DIGEST_MISMATCH");
    expect((await registryError(res(404, { errors: [{ code: "NAME_UNKNOWN", message: "n" }] }), "list tags of", "x")).code).toBe("NAME_UNKNOWN");
    expect((await registryError(res(403, {}), "pull", "x")).code).toBe("DENIED");
    expect((await registryError(new Response("nope", { status: 401 }), "pull", "x")).code).toBe("UNAUTHORIZED");
    const mi = await registryError(res(400, { errors: [{ code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry", detail: "sha256:abc" }] }), "push manifest", "r/x:1");
    expect(mi.code).toBe("REGISTRY");
    expect(mi.message).toContain("MANIFEST_BLOB_UNKNOWN: blob unknown to registry (sha256:abc)");
  });
  test("an echoed token never reaches the message", async () => {
    const e = await registryError(res(401, { errors: [{ code: "UNAUTHORIZED", message: "bad Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" }] }), "pull", "x");
    expect(e.message).not.toContain("eyJ");
  });
  test("trace redaction: headers, query secrets and userinfo", () => {
    expect(redactHeaders({ Authorization: "Bearer abc", accept: "x", cookie: "s=1" })).toBe("Authorization: REDACTED; accept: x; cookie: REDACTED");
    expect(redactUrl("https://s3.example.com/b?X-Amz-Signature=deadbeef&x=1&token=t0k")).toBe("https://s3.example.com/b?X-Amz-Signature=REDACTED&x=1&token=REDACTED");
    expect(redactUrl("https://user:pa55@r.example.com/v2/")).not.toContain("pa55");
  });
});
