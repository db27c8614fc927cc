import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLoopback, RegistryClient } from "../../src/transports/registry/client.ts";
import { makeTlsFiles } from "../harness/registry.ts";

type Handler = (req: Request, n: number) => Response | Promise<Response>;
const servers: { stop(force?: boolean): void }[] = [];
/** A tiny server on 127.0.0.1:0; `seen` records each request's path and Authorization. */
function serve(handler: Handler, tls?: { cert: string; key: string }) {
  const seen: { path: string; method: string; auth: string | null }[] = [];
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls,
    fetch: (req) => {
      const u = new URL(req.url);
      seen.push({ path: u.pathname + u.search, method: req.method, auth: req.headers.get("authorization") });
      return handler(req, seen.length);
    },
  });
  servers.push(s);
  return { host: `127.0.0.1:${s.port}`, port: s.port, seen };
}
const ok = () => new Response("{}", { headers: { "content-type": "application/json" } });
afterAll(() => servers.forEach((s) => s.stop(true)));

const dir = mkdtempSync(join(tmpdir(), "imgx-client-"));
let tlsFiles: { ca: string; cert: string; key: string };
beforeAll(async () => {
  tlsFiles = await makeTlsFiles(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("scheme selection", () => {
  test("a loopback server that does not speak TLS gets plain HTTP after an HTTPS try", async () => {
    const s = serve(() => ok());
    const trace: string[] = [];
    const c = new RegistryClient(s.host, { debug: (l) => trace.push(l) });
    const res = await c.fetch("/v2/x/tags/list", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    expect(trace.some((l) => l.includes(`https://${s.host}/v2/`))).toBe(true);
    expect(await c.resolveUrl("/v2/")).toBe(`http://${s.host}/v2/`);
  }, 10_000);

  test("a TLS server with an untrusted certificate is a TLS error, never a fallback; --ca-file and tlsVerify=false work", async () => {
    const files = { cert: readFileSync(tlsFiles.cert, "utf8"), key: readFileSync(tlsFiles.key, "utf8") };
    const s = serve(() => ok(), files);
    const e = await new RegistryClient(s.host, { retries: 0 }).fetch("/v2/x/tags/list", { method: "GET", repo: "x", actions: ["pull"] }).catch((x) => x);
    expect(e.code).toBe("TLS");
    expect(e.message).toContain(s.host);
    expect(e.message.split("\n").length).toBe(1);
    expect(s.seen.length).toBe(0);
    for (const opts of [{ caFile: tlsFiles.ca }, { tlsVerify: false }]) {
      const res = await new RegistryClient(s.host, opts).fetch("/v2/x/tags/list", { method: "GET", repo: "x", actions: ["pull"] });
      expect(res.status).toBe(200);
      await res.text();
    }
  }, 10_000);

  test("plainHttp skips the HTTPS try", async () => {
    const s = serve(() => ok());
    const trace: string[] = [];
    const res = await new RegistryClient(s.host, { plainHttp: true, debug: (l) => trace.push(l) }).fetch("/v2/", { method: "GET", repo: "x", actions: ["pull"] });
    await res.text();
    expect(trace.some((l) => l.includes("https://"))).toBe(false);
  });

  test("an unreachable host is one NETWORK line naming it", async () => {
    const s = serve(() => ok());
    servers.pop()!.stop(true);
    const e = await new RegistryClient(s.host, { retries: 1 }).fetch("/v2/", { method: "GET", repo: "x", actions: ["pull"] }).catch((x) => x);
    expect(e.code).toBe("NETWORK");
    expect(e.message).toStartWith(`Cannot connect to ${s.host}`);
    expect(e.message).not.toContain("\n");
  }, 10_000);
});

describe("auth, redirects and secrets", () => {
  test("a cross-host redirect does not carry Authorization; the trace shows no secret", async () => {
    const b = serve(() => new Response("blob-bytes"));
    const a = serve((req) => {
      if (req.headers.get("authorization") !== `Basic ${btoa("alice:s3cret-pw")}`) return new Response("{}", { status: 401, headers: { "www-authenticate": 'Basic realm="t"' } });
      if (new URL(req.url).pathname === "/v2/") return ok();
      return new Response(null, { status: 307, headers: { location: `http://localhost:${b.port}/data?X-Amz-Signature=sig123` } });
    });
    const trace: string[] = [];
    const c = new RegistryClient(a.host, { plainHttp: true, username: "alice", password: "s3cret-pw", debug: (l) => trace.push(l) });
    const res = await c.fetch("/v2/x/blobs/sha256:00", { method: "GET", repo: "x", actions: ["pull"] });
    expect(await res.text()).toBe("blob-bytes");
    expect(a.seen.at(-1)!.auth).toStartWith("Basic ");
    expect(b.seen.map((x) => x.auth)).toEqual([null]);
    const all = trace.join("\n");
    expect(all).not.toContain("s3cret-pw");
    expect(all).not.toContain(btoa("alice:s3cret-pw"));
    expect(all).not.toContain("sig123");
  });

  test("Bearer: the token is fetched before a streamed body is sent, cached, and never traced", async () => {
    const tok = serve((req) => {
      const ok = req.headers.get("authorization") === `Basic ${btoa("bob:pw-123")}`;
      return ok ? Response.json({ token: "tok-XYZ-secret", expires_in: 300 }) : new Response("{}", { status: 401 });
    });
    const reg = serve(async (req) => {
      if (req.headers.get("authorization") !== "Bearer tok-XYZ-secret")
        return new Response("{}", { status: 401, headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${tok.port}/token",service="reg"` } });
      return new Response(req.method === "PUT" ? String((await req.arrayBuffer()).byteLength) : "{}", { status: req.method === "PUT" ? 201 : 200 });
    });
    const trace: string[] = [];
    const c = new RegistryClient(reg.host, { plainHttp: true, username: "bob", password: "pw-123", debug: (l) => trace.push(l) });
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new Uint8Array(1000));
        ctl.close();
      },
    });
    const res = await c.fetch("/v2/x/blobs/uploads/u?digest=sha256:00", { method: "PUT", headers: { "content-length": "1000" }, body, repo: "x", actions: ["pull", "push"] });
    expect([res.status, await res.text()]).toEqual([201, "1000"]);
    expect(reg.seen.filter((r) => r.method === "PUT").length).toBe(1);
    const again = await c.fetch("/v2/x/tags/list", { method: "GET", repo: "x", actions: ["pull", "push"] });
    await again.text();
    expect(tok.seen.length).toBe(1);
    expect(tok.seen[0]!.path).toContain("scope=repository%3Ax%3Apull%2Cpush");
    const all = trace.join("\n");
    for (const secret of ["tok-XYZ-secret", "pw-123", btoa("bob:pw-123")]) expect(all).not.toContain(secret);
  });

  test("a 401 with a new challenge is retried once with a fresh token", async () => {
    let tokens = 0;
    const tok = serve(() => Response.json({ access_token: `t${++tokens}` }));
    const reg = serve((req) => {
      const good = req.headers.get("authorization") === "Bearer t2";
      return good ? ok() : new Response("{}", { status: 401, headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${tok.port}/token",service="reg"` } });
    });
    const c = new RegistryClient(reg.host, { plainHttp: true });
    const res = await c.fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    expect(tokens).toBe(2);
  });
});

describe("challenge scopes, login and loopback names", () => {
  test("a 401 naming a scope we did not ask for is retried with that scope added", async () => {
    const tok = serve((req) => Response.json({ token: new URL(req.url).searchParams.getAll("scope").join(" ") }));
    const realm = `Bearer realm="http://127.0.0.1:${tok.port}/token",service="reg"`;
    const reg = serve((req) => {
      const a = req.headers.get("authorization") ?? "";
      if (new URL(req.url).pathname === "/v2/") return new Response("{}", { status: 401, headers: { "www-authenticate": realm } });
      return a.includes("repository:y:pull") ? ok() : new Response("{}", { status: 401, headers: { "www-authenticate": `${realm},scope="repository:x:pull repository:y:pull",error="insufficient_scope"` } });
    });
    const res = await new RegistryClient(reg.host, { plainHttp: true }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    expect(tok.seen.map((r) => decodeURIComponent(r.path.replace(/\+/g, " ")))).toEqual(["/token?service=reg&scope=repository:x:pull", "/token?service=reg&scope=repository:x:pull&scope=repository:y:pull"]);
  });

  test("an empty repo asks the token server for no scope (login's credential check)", async () => {
    const tok = serve(() => Response.json({ token: "t" }));
    const reg = serve((req) => (req.headers.get("authorization") === "Bearer t" ? ok() : new Response("{}", { status: 401, headers: { "www-authenticate": `Bearer realm="http://127.0.0.1:${tok.port}/token",service="reg"` } })));
    const res = await new RegistryClient(reg.host, { plainHttp: true, username: "u", password: "p" }).fetch("/v2/", { method: "GET", repo: "", actions: [] });
    expect(res.status).toBe(200);
    await res.text();
    expect(tok.seen.map((r) => [r.path, r.auth])).toEqual([["/token?service=reg", `Basic ${btoa("u:p")}`]]);
  });

  test("loopback registry names, with and without ports and brackets", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:443", "[::1]:5000", "[::1]", "::1"]) expect([h, isLoopback(h)]).toEqual([h, true]);
    for (const h of ["example.com", "example.com:5000", "10.0.0.1:5000", "[fe80::1]:80", "128.0.0.1"]) expect([h, isLoopback(h)]).toEqual([h, false]);
  });
});

describe("retries and timeouts", () => {
  test("429 with Retry-After is waited out, then succeeds", async () => {
    const s = serve((req, n) => (new URL(req.url).pathname === "/v2/" ? ok() : n === 2 ? new Response("slow down", { status: 429, headers: { "retry-after": "1" } }) : ok()));
    const t0 = Date.now();
    const res = await new RegistryClient(s.host, { plainHttp: true }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(s.seen.length).toBe(3);
  }, 10_000);

  test("a 503 on the /v2/ ping is retried like any GET", async () => {
    const s = serve((req, n) => (n === 1 ? new Response("busy", { status: 503 }) : ok()));
    const res = await new RegistryClient(s.host, { plainHttp: true }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    expect(s.seen.map((r) => r.path)).toEqual(["/v2/", "/v2/", "/v2/x/manifests/1"]);
    const down = serve(() => new Response("down", { status: 500 }));
    const e = await new RegistryClient(down.host, { plainHttp: true, retries: 1 }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] }).catch((x) => x);
    expect([e.code, e.message]).toEqual(["REGISTRY", `Cannot use registry ${down.host}: /v2/ answered HTTP 500`]);
    expect(down.seen.length).toBe(2);
  }, 10_000);

  test("500 then success for GET; POST is not retried; retries bound the attempts", async () => {
    let fails = 1;
    const s = serve((req) => (new URL(req.url).pathname === "/v2/" ? ok() : fails-- > 0 ? new Response("boom", { status: 500 }) : ok()));
    const c = new RegistryClient(s.host, { plainHttp: true });
    const res = await c.fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(res.status).toBe(200);
    await res.text();
    fails = 1;
    const post = await c.fetch("/v2/x/blobs/uploads/", { method: "POST", repo: "x", actions: ["pull", "push"] });
    expect(post.status).toBe(500);
    await post.text();
    fails = 100;
    const before = s.seen.length;
    const capped = await new RegistryClient(s.host, { plainHttp: true, retries: 2 }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] });
    expect(capped.status).toBe(500);
    await capped.text();
    expect(s.seen.length - before).toBe(1 + 3); // ping + first try + 2 retries
  }, 20_000);

  test("a stalled body hits the idle timeout instead of hanging", async () => {
    const s = serve((req) =>
      new URL(req.url).pathname === "/v2/"
        ? ok()
        : new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(10)) }), { headers: { "content-length": "1000" } }),
    );
    const res = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300 }).fetch("/v2/x/blobs/sha256:00", { method: "GET", repo: "x", actions: ["pull"] });
    const t0 = Date.now();
    const err = await res.arrayBuffer().catch((e) => e);
    expect([err.code, err.message]).toEqual(["NETWORK", `Cannot read from ${s.host}: connection idle for 0.3s`]);
    expect(Date.now() - t0).toBeLessThan(3000);
  }, 10_000);

  test("a consumer that pauses longer than the timeout (backpressure) is not an idle network", async () => {
    const data = new Uint8Array(300_000).map((_, i) => i % 7);
    const s = serve((req) => (new URL(req.url).pathname === "/v2/" ? ok() : new Response(data)));
    const res = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300 }).fetch("/v2/x/blobs/sha256:00", { method: "GET", repo: "x", actions: ["pull"] });
    const reader = res.body!.getReader();
    let n = 0;
    await Bun.sleep(700); // e.g. a tar sink still writing the previous blob
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      n += r.value.length;
      await Bun.sleep(n < 100_000 ? 400 : 0);
    }
    expect(n).toBe(data.length);
  }, 10_000);

  test("a slow streamed upload longer than the timeout still succeeds while bytes keep moving; Content-Length kept", async () => {
    const s = serve(async (req) => {
      if (new URL(req.url).pathname === "/v2/") return ok();
      const n = (await req.arrayBuffer()).byteLength;
      return new Response(null, { status: 201, headers: { "x-got": String(n), "x-len": req.headers.get("content-length") ?? "chunked" } });
    });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent === 8) return c.close();
        await Bun.sleep(100);
        sent++;
        c.enqueue(new Uint8Array(1000));
      },
    });
    const t0 = Date.now();
    const res = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300, retries: 0 }).fetch("/v2/x/blobs/uploads/1", {
      method: "PUT",
      headers: { "content-length": "8000" },
      body,
      repo: "x",
      actions: ["pull", "push"],
      idempotent: false,
    });
    expect(Date.now() - t0).toBeGreaterThan(600);
    expect([res.status, res.headers.get("x-got"), res.headers.get("x-len")]).toEqual([201, "8000", "8000"]);
  }, 10_000);

  test("an upload the server stops reading is a NETWORK error after the idle timeout", async () => {
    const s = serve((req) => (new URL(req.url).pathname === "/v2/" ? ok() : new Promise<Response>(() => {})));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 64 * 1024 * 1024) return c.close();
        sent += 1024 * 1024;
        c.enqueue(new Uint8Array(1024 * 1024));
      },
    });
    const t0 = Date.now();
    const e = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300, retries: 0 })
      .fetch("/v2/x/blobs/uploads/1", { method: "PATCH", headers: { "content-length": String(64 * 1024 * 1024) }, body, repo: "x", actions: ["push"], idempotent: false })
      .catch((x) => x);
    expect(e.code).toBe("NETWORK");
    expect(e.message).toMatch(/request body stalled for 0.3s|no response within 0.3s/);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 10_000);

  test("a producer that pauses longer than the timeout does not fail the upload (its own source has a timer)", async () => {
    const s = serve(async (req) => (new URL(req.url).pathname === "/v2/" ? ok() : new Response(String((await req.arrayBuffer()).byteLength), { status: 202 })));
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (step++ === 2) return c.close();
        await Bun.sleep(step === 2 ? 700 : 0);
        c.enqueue(new Uint8Array(1000));
      },
    });
    const res = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300, retries: 0 }).fetch("/v2/x/blobs/uploads/1", {
      method: "PATCH",
      headers: { "content-length": "2000" },
      body,
      repo: "x",
      actions: ["push"],
      idempotent: false,
    });
    expect([res.status, await res.text()]).toEqual([202, "2000"]);
  }, 10_000);

  test("a large byte body is sent whole with its Content-Length (not chunked)", async () => {
    const s = serve(async (req) => {
      if (new URL(req.url).pathname === "/v2/") return ok();
      const got = new Uint8Array(await req.arrayBuffer());
      return new Response(null, { status: 202, headers: { "x-sha": new Bun.CryptoHasher("sha256").update(got).digest("hex"), "x-len": req.headers.get("content-length") ?? "chunked" } });
    });
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => i % 251);
    const res = await new RegistryClient(s.host, { plainHttp: true }).fetch("/v2/x/blobs/uploads/1", { method: "PATCH", body: bytes, repo: "x", actions: ["push"], idempotent: false });
    expect([res.status, res.headers.get("x-len"), res.headers.get("x-sha")]).toEqual([202, String(bytes.length), new Bun.CryptoHasher("sha256").update(bytes).digest("hex")]);
  }, 10_000);

  test("a caller's abort is rethrown as is, at once, never retried", async () => {
    const s = serve((req) => (new URL(req.url).pathname === "/v2/" ? ok() : new Promise<Response>(() => {})));
    const ctl = new AbortController();
    const reason = new Error("user pressed Ctrl-C");
    setTimeout(() => ctl.abort(reason), 100);
    const t0 = Date.now();
    const e = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 5000 }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"], signal: ctl.signal }).catch((x) => x);
    expect(e).toBe(reason);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(s.seen.filter((r) => r.path !== "/v2/").length).toBe(1);
  }, 10_000);

  test("a server that never answers is a NETWORK error after the timeout", async () => {
    const s = serve((req) => (new URL(req.url).pathname === "/v2/" ? ok() : new Promise<Response>(() => {})));
    const t0 = Date.now();
    const e = await new RegistryClient(s.host, { plainHttp: true, timeoutMs: 300, retries: 0 }).fetch("/v2/x/manifests/1", { method: "GET", repo: "x", actions: ["pull"] }).catch((x) => x);
    expect(e.code).toBe("NETWORK");
    expect(e.message).toContain("no response within");
    expect(Date.now() - t0).toBeLessThan(3000);
  }, 10_000);
});

describe("Location resolution", () => {
  test("relative and absolute Locations keep their query exactly", async () => {
    const s = serve(() => ok());
    const c = new RegistryClient(s.host, { plainHttp: true });
    expect(await c.resolveUrl("/v2/x/blobs/uploads/abc?_state=a%2Bb%3D%3D&x=1")).toBe(`http://${s.host}/v2/x/blobs/uploads/abc?_state=a%2Bb%3D%3D&x=1`);
    expect(await c.resolveUrl("https://uploads.example.com/u/1?sig=a%2F")).toBe("https://uploads.example.com/u/1?sig=a%2F");
    expect(await c.resolveUrl("abc?_state=z")).toBe(`http://${s.host}/abc?_state=z`);
  });
});
