// The registry client and application layer as a library: one client per registry (one ping, one
// token per scope), one retry budget per blob GET whatever layer retries, the observer's counts equal
// the registry's, and a transfer driven by an AbortSignal and an event callback without the CLI.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { transfer } from "../../src/app/transfer.ts";
import type { CopyEvent } from "../../src/copy/events.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink, RegistryClients, type RequestObservation } from "../../src/transports/registry/index.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { startCountingProxy, type CountingProxy } from "../harness/counting-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { tinyImage, writeOciLayout, type TinyImage } from "../harness/tiny-image.ts";
import { blobInput } from "../helpers/blob-input.ts";
import { imgx, imgxOk, tempDir } from "../helpers/imgx.ts";
import { parseImageName } from "../../src/core/reference.ts";

const t = tempDir("imgx-app-");
let token: RunningRegistry;
let open: RunningRegistry;
let proxy: CountingProxy;
const img = tinyImage({ seed: "app-layer", layerBytes: 3 * 1024 * 1024 });

async function seed(r: RunningRegistry, ref: string, image: TinyImage, opts = {}): Promise<void> {
  const sink = await openRegistrySink(parseDockerReference(`${r.host}/${ref}`), { retries: 0, ...opts });
  for (const b of image.blobs) await sink.putBlob(blobInput(b.bytes, { mediaType: b.mediaType }));
  await sink.putManifest(image.manifest, image.manifest.bytes, [ref.split(":")[1]!].map(parseImageName), true);
}

beforeAll(async () => {
  [token, open] = await Promise.all([startRegistry("token"), startRegistry("open")]);
  const u = token.users[0]!;
  await seed(token, "team/src:1", img, { username: u.name, password: u.password });
  await seed(open, "team/src:1", img);
  proxy = startCountingProxy(open.url);
}, 60_000);
afterAll(async () => {
  proxy?.stop();
  await Promise.all([token?.stop(), open?.stop()]);
  t.cleanup();
});

describe("one client per registry", () => {
  test("imgx copy within a token registry pings once and fetches each scope's token once", async () => {
    const u = token.users[0]!;
    const before = token.tokenServer!.requests.length;
    const logBefore = loggedRequests(token.logPath).length;
    await imgxOk(["copy", "--creds", `${u.name}:${u.password}`, `${token.host}/team/src:1`, `${token.host}/team/dst:1`]);
    const scopes = token.tokenServer!.requests.slice(before).map((r) => r.scopes.join(" "));
    expect(scopes.length).toBeGreaterThan(0);
    expect(new Set(scopes).size).toBe(scopes.length);
    const pings = loggedRequests(token.logPath).slice(logBefore).filter((r) => r.uri === "/v2/" && r.userAgent.startsWith("imgx/"));
    expect(pings.length).toBe(1);
  });
});

describe("one retry budget", () => {
  const layerPath = `/v2/team/src/blobs/${img.layer.digest}`;
  const gets = () => proxy.requests.filter((r) => r.method === "GET" && r.path === layerPath).length;

  test("a blob GET answered 503 every time goes out --retries+1 times, then fails as a network error", async () => {
    proxy.reset();
    proxy.setFault((r) => (r.method === "GET" && r.path === layerPath ? { kind: "status", status: 503 } : undefined));
    const r = await imgx(["pull", "--retries", "2", "--plain-http", `${proxy.host}/team/src:1`, join(t.dir, "p503")]);
    expect(r.code).toBe(5);
    expect(gets()).toBe(3);
  }, 60_000);

  test("a blob body cut mid-way every time draws on the same budget: --retries+1 GETs in all", async () => {
    proxy.reset();
    proxy.setFault((r) => (r.method === "GET" && r.path === layerPath ? { kind: "reset", afterBytes: 100_000 } : undefined));
    const r = await imgx(["pull", "--retries", "2", "--plain-http", `${proxy.host}/team/src:1`, join(t.dir, "preset")]);
    expect(r.code).toBe(5);
    expect(gets()).toBe(3);
  }, 60_000);
});

describe("the application layer without a CLI", () => {
  test("transfer reports events, and the observer's counts equal the registry's access log", async () => {
    const seen: RequestObservation[] = [];
    const events: CopyEvent[] = [];
    const logBefore = loggedRequests(open.logPath).length;
    const clients = new RegistryClients({ observer: (o) => seen.push(o) });
    const res = await transfer({ src: `${open.host}/team/src:1`, dst: `oci:${join(t.dir, "lib")}:v1`, existing: "update" }, { onEvent: (e) => events.push(e), clients });
    expect(res.images[0]!.digest).toBe(img.manifest.digest);
    expect(events.filter((e) => e.type === "blob-done").map((e) => (e as { digest: string }).digest).sort()).toEqual([img.layer.digest, img.config.digest].sort());
    expect(events.at(-1)!.type).toBe("summary");
    const logged = loggedRequests(open.logPath).slice(logBefore);
    const byKey = (xs: { method: string; path: string }[]) => xs.map((x) => `${x.method} ${x.path}`).sort();
    // the https probe of a loopback registry gets no HTTP answer (status 0): it never reaches the log
    expect(seen.filter((o) => o.status === 0).map((o) => o.endpoint)).toEqual(["GET /v2/"]);
    expect(byKey(seen.filter((o) => o.status > 0).map((o) => ({ method: o.method, path: o.endpoint })))).toEqual(
      byKey(logged.map((l) => ({ method: l.method, path: endpointOfLogged(l.method, l.uri) }))),
    );
    const blobGet = seen.find((o) => o.endpoint === "GET blob" && o.bytesReceived === img.layer.size)!;
    expect(blobGet.status).toBe(200);
    expect(blobGet.totalMs).toBeGreaterThanOrEqual(blobGet.ttfbMs);
  });

  test("aborting the signal mid-blob rejects with its reason and leaves no destination", async () => {
    const src = join(t.dir, "big-src");
    writeOciLayout(src, tinyImage({ seed: "abort", layerBytes: 64 * 1024 * 1024 }), "v1");
    const ctl = new AbortController();
    const reason = new Error("stop now");
    const dst = join(t.dir, "aborted");
    const p = transfer({ src: `oci:${src}:v1`, dst: `oci:${dst}:v1` }, { signal: ctl.signal, onEvent: (e) => e.type === "blob-start" && e.size! > 1e6 && ctl.abort(reason) });
    expect(await p.catch((e) => e)).toBe(reason);
    expect(existsSync(join(dst, "index.json"))).toBe(false);
  });
});

/** The registry's access log line named the way the observer names it. */
function endpointOfLogged(method: string, uri: string): string {
  const path = uri.split("?")[0]!;
  if (path === "/v2/") return "GET /v2/";
  const kind = /\/blobs\/uploads/.test(path) ? "upload" : /\/blobs\//.test(path) ? "blob" : /\/manifests\//.test(path) ? "manifest" : "other";
  return `${method} ${kind}`;
}
