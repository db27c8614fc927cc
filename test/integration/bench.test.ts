// imgx bench against the real distribution registry (and the fault proxy, and token auth):
// every count the bench reports must equal what the registry logged.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchSummary } from "../../src/bench/summary.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";
import { freePort, startRegistry, USERS, type RunningRegistry } from "../harness/registry.ts";
import { launchChromium } from "../harness/browser.ts";
import { tinyImage, writeOciLayout } from "../harness/tiny-image.ts";
import { IMGX, imgx, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-bench-");
let open: RunningRegistry;
let token: RunningRegistry;
const CREDS = `${USERS[0]!.name}:${USERS[0]!.password}`;

beforeAll(async () => {
  requireTool("docker-registry");
  requireTool("skopeo");
  [open, token] = await Promise.all([startRegistry("open"), startRegistry("token")]);
  const lay = join(t.dir, "layout");
  writeOciLayout(lay, tinyImage({ seed: "bench", layerBytes: 20_000 }), "1");
  for (const [reg, creds] of [[open, []], [token, ["--dest-creds", CREDS]]] as const) {
    const r = await run(["skopeo", "copy", "-q", "--dest-tls-verify=false", ...creds, `oci:${lay}:1`, `docker://${reg.host}/bench/app:1`]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
}, 60_000);
afterAll(async () => {
  await Promise.all([open?.stop(), token?.stop()]);
  t.cleanup();
});

/** The endpoint name of a logged request, classified independently of imgx's own code. */
function endpointOf(method: string, uri: string): string {
  const path = uri.replace(/\?.*/, "");
  if (path === "/v2/") return `${method} /v2/`;
  if (/\/blobs\/uploads\//.test(path)) return `${method} upload`;
  if (/\/blobs\/sha256:/.test(path)) return `${method} blob`;
  if (/\/manifests\//.test(path)) return `${method} manifest`;
  return "other";
}

function countsSince(reg: RunningRegistry, from: number): { counts: Record<string, number>; total: number } {
  const all = loggedRequests(reg.logPath);
  const counts: Record<string, number> = {};
  for (const r of all.slice(from)) counts[endpointOf(r.method, r.uri)] = (counts[endpointOf(r.method, r.uri)] ?? 0) + 1;
  return { counts, total: all.length };
}

/** What the bench says it sent: measured requests plus those outside the measured period. */
function benchCounts(s: BenchSummary): Record<string, number> {
  const out: Record<string, number> = { ...s.unmeasured };
  for (const [k, e] of Object.entries(s.endpoints)) out[k] = (out[k] ?? 0) + e.count;
  return out;
}

async function bench(args: string[]): Promise<{ code: number; s: BenchSummary; stdout: string; stderr: string }> {
  const r = await imgx(["bench", ...args, "--plain-http", "--json"]);
  let s: BenchSummary;
  try {
    s = JSON.parse(r.stdout);
  } catch {
    throw new Error(`imgx bench ${args.join(" ")} (${r.code}): ${r.stderr}`);
  }
  return { code: r.code, s, stdout: r.stdout, stderr: r.stderr };
}

async function expectLogged(reg: RunningRegistry, args: string[]): Promise<BenchSummary> {
  const before = countsSince(reg, 0).total;
  const { code, s, stderr } = await bench(args);
  expect(code, stderr).toBe(0);
  expect(s.operations.errors).toBe(0);
  expect(countsSince(reg, before).counts).toEqual(benchCounts(s));
  return s;
}

describe("imgx bench against docker-registry", () => {
  test("head, manifest, pull: per-endpoint counts equal the registry's access log", async () => {
    const ref = `${open.host}/bench/app:1`;
    const head = await expectLogged(open, ["head", ref, "--count", "300", "-c", "8"]);
    expect(head.endpoints["HEAD blob"]!.count).toBe(300);
    expect(head.operations.count).toBe(300);
    const man = await expectLogged(open, ["manifest", ref, "--count", "100", "-c", "4", "--warmup", "200ms"]);
    expect(man.endpoints["GET manifest"]!.count).toBe(100);
    const pull = await expectLogged(open, ["pull", ref, "--count", "30", "-c", "3"]);
    // a pull is the manifest plus both blobs (config, layer), each verified
    expect(pull.endpoints["GET blob"]!.count).toBe(60);
    expect(pull.bytes.received).toBeGreaterThan(30 * 20_000);
  }, 30_000);

  test("push in every upload mode creates distinct blobs; counts match the log; --cleanup deletes them", async () => {
    const blobsDir = join(open.storageDir, "docker/registry/v2/blobs/sha256");
    const blobCount = () => readdirSync(blobsDir).flatMap((d) => readdirSync(join(blobsDir, d))).length;
    const before = blobCount();
    const modes = [
      ["monolithic", 0],
      ["chunked", 3],
      ["streamed", 1],
    ] as const;
    for (const [mode, patches] of modes) {
      const s = await expectLogged(open, ["push", `${open.host}/bench/push-${mode}`, "--count", "4", "-c", "2", "--layers", "2", "--layer-size", "40K", "--chunk-size", "16K", "--upload-mode", mode]);
      // 2 layers + config per image, each HEAD (404), POST, PATCHes, PUT; then the manifest
      expect(s.endpoints["HEAD blob"]!.status).toEqual({ "404": 12 });
      expect(s.endpoints["PUT upload"]!.count).toBe(12);
      expect(s.endpoints["PUT manifest"]!.count).toBe(4);
      // the 40 KiB layers take 3 chunks of 16 KiB, the small config 1
      if (patches) expect(s.endpoints["PATCH upload"]!.count).toBe(mode === "chunked" ? 4 * (2 * 3 + 1) : 12);
      expect(s.bytes.sent).toBeGreaterThan(4 * 2 * 40 * 1024);
    }
    // 3 modes × 4 images × (2 layers + config + the manifest, which distribution stores as a blob too), none shared
    expect(blobCount() - before).toBe(48);
    const cleaned = await expectLogged(open, ["push", `${open.host}/bench/push-clean`, "--count", "3", "--layer-size", "1K", "--cleanup"]);
    expect(cleaned.cleanup).toEqual({ deleted: 3 + 9, failed: 0 });
    expect(cleaned.endpoints["DELETE manifest"]!.count).toBe(3);
    const tags = await fetch(`${open.url}/v2/bench/push-clean/manifests/${"sha256:" + "0".repeat(64)}`);
    expect(tags.status).toBe(404);
  }, 40_000);

  test("mixed draws scenarios by weight; counts match the log", async () => {
    const s = await expectLogged(open, ["mixed", `${open.host}/bench/app:1`, "--mix", "head=50,manifest=30,push=20", "--count", "100", "-c", "4", "--layer-size", "1K", "--layers", "1"]);
    const heads = s.endpoints["HEAD blob"]!.status["200"] ?? 0;
    const puts = s.endpoints["PUT manifest"]!.count;
    expect(heads + (s.endpoints["GET manifest"]?.count ?? 0) + puts).toBe(100);
    expect(heads).toBeGreaterThan(30);
    expect(puts).toBeGreaterThan(8);
  }, 30_000);

  test("open model holds its rate within 2% and corrects latency from the intended start", async () => {
    const { code, s } = await bench(["head", `${open.host}/bench/app:1`, "--rate", "250", "--duration", "4s"]);
    expect(code).toBe(0);
    expect(s.model).toBe("open");
    // every scheduled arrival either ran or is reported dropped (a starved machine may miss one at the end)
    expect(s.operations.count + s.operations.dropped).toBe(1000);
    expect(Math.abs(s.operations.perSecond - 250) / 250).toBeLessThan(0.02);
    const e = s.endpoints["HEAD blob"]!;
    // corrected latency is never below the raw one
    expect(e.latencyMs.p99).toBeGreaterThanOrEqual(e.rawLatencyMs.p99);
    // a 2 s ramp to 200/s, the first second of it warm-up: 50 arrivals before 1 s, 400 before 3 s
    const ramp = await bench(["manifest", `${open.host}/bench/app:1`, "--rate", "200", "--ramp", "2s", "--warmup", "1s", "--duration", "2s"]);
    expect(ramp.code).toBe(0);
    expect(ramp.s.operations.count + ramp.s.operations.dropped).toBe(350);
    expect(ramp.s.unmeasured!["GET manifest"]).toBe(1 + 50);
  }, 25_000);

  test("merge of two shards: counts add, percentiles lie between the shards'", async () => {
    const files = [0, 1].map((i) => join(t.dir, `shard-${i}.json`));
    const startAt = new Date(Date.now() + 1500).toISOString();
    const runs = await Promise.all(
      [0, 1].map((i) => imgx(["bench", "head", `${open.host}/bench/app:1`, "--plain-http", "--count", "400", "-c", String(2 + 6 * i), "--shard", `${i}/2`, "--start-at", startAt, "--out", files[i]!, "-q"])),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const shards = files.map((f) => JSON.parse(readFileSync(f, "utf8")) as BenchSummary);
    expect(shards.map((s) => s.operations.count)).toEqual([200, 200]);
    const r = await imgx(["bench", "merge", ...files, "--json", "--html", join(t.dir, "merged.html")]);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as BenchSummary;
    expect(m.operations.count).toBe(400);
    expect(m.endpoints["HEAD blob"]!.count).toBe(400);
    expect(m.shards).toEqual(["0/2", "1/2"]);
    for (const p of ["p50", "p90", "p99", "max"] as const) {
      const vals = shards.map((s) => s.endpoints["HEAD blob"]!.latencyMs[p]);
      expect(m.endpoints["HEAD blob"]!.latencyMs[p]).toBeGreaterThanOrEqual(Math.min(...vals));
      expect(m.endpoints["HEAD blob"]!.latencyMs[p]).toBeLessThanOrEqual(Math.max(...vals));
    }
    const html = readFileSync(join(t.dir, "merged.html"), "utf8");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    // drawn by a real browser: two charts, one curve per endpoint across the whole axis, nothing fetched
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const fetched: string[] = [];
      page.on("request", (r) => fetched.push(r.url()));
      await page.goto(`file://${join(t.dir, "merged.html")}`);
      // evaluated in the page (a string: this file is typed without the DOM library)
      const charts = (await page.evaluate(`[...document.querySelectorAll("svg")].map((svg) => ({
          curves: [...svg.querySelectorAll("path")].map((p) => Math.round(p.getBBox().width)),
          dots: svg.querySelectorAll("circle").length,
        }))`)) as { curves: number[]; dots: number }[];
      expect(charts.length).toBe(2);
      expect(charts[0]!.curves.length).toBe(Object.keys(m.endpoints).length);
      for (const w of charts[0]!.curves) expect(w).toBeGreaterThan(600);
      // ops/s over time: a dot per second of the run (these runs are short; a last sliver of a second is left out)
      expect(charts[1]!.dots).toBeGreaterThanOrEqual(Math.max(1, m.timeline.ops.length - 1));
      expect(charts[1]!.dots).toBeLessThanOrEqual(m.timeline.ops.length);
      expect(await page.locator(".legend").first().innerText()).toContain("HEAD blob");
      expect(fetched.filter((u) => !u.startsWith("file://"))).toEqual([]);
    } finally {
      await browser.close();
    }
    // a summary captured with stderr lines around it (kubectl logs) still merges
    writeFileSync(join(t.dir, "logs.txt"), `imgx: --start-at is 1.2 s in the past; starting now\n${readFileSync(files[0]!, "utf8")}some trailer\n`);
    const fromLogs = await imgx(["bench", "merge", join(t.dir, "logs.txt"), files[1]!, "--json"]);
    expect(fromLogs.code, fromLogs.stderr).toBe(0);
    expect((JSON.parse(fromLogs.stdout) as BenchSummary).operations.count).toBe(400);
    const bad = await imgx(["bench", "merge", join(t.dir, "merged.html")]);
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/merged\.html.*not JSON/);
  }, 30_000);

  test("--prometheus serves live counters while the run goes on", async () => {
    const port = await freePort();
    const p = Bun.spawn([IMGX, "bench", "head", `${open.host}/bench/app:1`, "--plain-http", "--duration", "3s", "-c", "2", "--prometheus", `127.0.0.1:${port}`, "-q"], { stdout: "pipe", stderr: "pipe" });
    let text = "";
    for (let i = 0; i < 40 && !/HEAD blob",status="200"} [1-9]/.test(text); i++) {
      await Bun.sleep(100);
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => "");
    }
    expect(text).toMatch(/^imgx_bench_requests_total\{scenario="head",target="[^"]+",endpoint="HEAD blob",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/imgx_bench_request_latency_seconds\{.*quantile="0.99"\} [\d.e-]+/);
    expect(await p.exited).toBe(0);
  }, 20_000);

  test("token auth: one token per scope for the whole run, not one per request", async () => {
    const ts = token.tokenServer!;
    const before = ts.requests.length;
    const before2 = countsSince(token, 0).total;
    const r = await imgx(["bench", "head", `${token.host}/bench/app:1`, "--plain-http", "--creds", CREDS, "--count", "200", "-c", "8", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as BenchSummary;
    expect(s.endpoints["HEAD blob"]!.status).toEqual({ "200": 200 });
    const got = ts.requests.slice(before);
    expect(got.map((x) => x.scopes.join(" "))).toEqual(["repository:bench/app:pull"]);
    // the bench counted that token fetch, and every request the registry saw
    const mine = benchCounts(s);
    expect(mine["GET token"]).toBe(1);
    delete mine["GET token"];
    expect(countsSince(token, before2).counts).toEqual(mine);
    expect(r.stdout + r.stderr).not.toContain(USERS[0]!.password);
    // push then --cleanup: one token for pull,push and one for delete, however many requests
    const before3 = ts.requests.length;
    const before4 = countsSince(token, 0).total;
    const p = await imgx(["bench", "push", `${token.host}/bench/tpush`, "--plain-http", "--creds", CREDS, "--count", "6", "-c", "3", "--layer-size", "1K", "--cleanup", "--json"]);
    expect(p.code, p.stderr).toBe(0);
    expect(ts.requests.slice(before3).map((x) => x.scopes.join(" "))).toEqual(["repository:bench/tpush:pull,push", "repository:bench/tpush:delete"]);
    const ps = JSON.parse(p.stdout) as BenchSummary;
    expect(ps.cleanup).toEqual({ deleted: 6 * 4, failed: 0 });
    const pm = benchCounts(ps);
    expect(pm["GET token"]).toBe(2);
    delete pm["GET token"];
    expect(countsSince(token, before4).counts).toEqual(pm);
  }, 20_000);
});

describe("imgx bench under faults and interruption", () => {
  let proxy: FaultProxy;
  beforeAll(() => {
    proxy = startFaultProxy(open.host, { seed: 11, rate: 0.3, kinds: ["status", "reset"] });
  });
  afterAll(() => proxy?.stop());

  test("a faulty registry: errors counted per endpoint and status, the run completes", async () => {
    const { code, s } = await bench(["pull", `${proxy.host}/bench/app:1`, "--count", "60", "-c", "4"]);
    expect(code).toBe(0);
    expect(s.operations.count).toBe(60);
    expect(s.operations.errors).toBeGreaterThan(0);
    const statuses = Object.values(s.endpoints).flatMap((e) => Object.keys(e.status));
    expect(statuses.some((k) => /^5\d\d$|^429$/.test(k))).toBe(true);
    const errs = Object.values(s.endpoints).reduce((a, e) => a + e.errors, 0);
    expect(errs).toBe(s.operations.errors);
    expect(Object.keys(s.errorKinds).length).toBeGreaterThan(0);
    // --max-errors stops the run early, exit status 5
    const stopped = await bench(["head", `${proxy.host}/bench/app:1`, "--duration", "20s", "--max-errors", "5"]);
    expect(stopped.code).toBe(5);
    expect(stopped.s.stoppedBy).toBe("max-errors");
    expect(stopped.s.seconds).toBeLessThan(10);
  }, 40_000);

  test("Ctrl-C (SIGINT) stops the run and still prints the summary of what ran", async () => {
    const out = join(t.dir, "interrupted.json");
    const p = Bun.spawn([IMGX, "bench", "head", `${open.host}/bench/app:1`, "--plain-http", "--duration", "60s", "-c", "4", "--out", out], { stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(1500);
    const sent = performance.now();
    p.kill("SIGINT");
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(performance.now() - sent).toBeLessThan(5000);
    expect(code, stderr).toBe(130);
    expect(stdout).toMatch(/stopped by interrupted/);
    expect(stdout).toMatch(/HEAD blob\s+[\d,]+/);
    const s = JSON.parse(readFileSync(out, "utf8")) as BenchSummary;
    expect(s.operations.count).toBeGreaterThan(0);
    expect(statSync(out).size).toBeGreaterThan(100);
  }, 20_000);
});
