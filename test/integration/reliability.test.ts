import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bigSave, generateAll } from "../../fixtures/generate.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { IMGX, imgx, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-rel-");
const fx = join(t.dir, "fx");
let reg: RunningRegistry;
let proxy: FaultProxy;
const OPS = 30;
const RATE = 0.2;
export const soakReport = { pulls: 0, pushes: 0, ok: 0, cleanFailures: 0, corrupt: 0, faults: {} as Record<string, number> };

beforeAll(async () => {
  requireTool("skopeo");
  await generateAll(fx);
  reg = await startRegistry("open");
  proxy = startFaultProxy(reg.host, { seed: 42, rate: 0, stallMs: 2500 });
  const r = await imgx(["push", "--all-platforms", `oci:${join(fx, "multiarch-oci")}:1.0`, `${reg.host}/soak/src:1`]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 60_000);
afterAll(async () => {
  proxy?.stop();
  await reg?.stop();
  t.cleanup();
});

/** Every blob file in a layout hashes to its name; skopeo can copy it (it verifies digests too). */
async function layoutIsSound(dir: string): Promise<boolean> {
  const blobs = join(dir, "blobs", "sha256");
  for (const f of readdirSync(blobs)) {
    if (f.endsWith(".partial")) continue;
    if (new Bun.CryptoHasher("sha256").update(readFileSync(join(blobs, f))).digest("hex") !== f) return false;
  }
  return (await run(["skopeo", "copy", "-q", "--all", `oci:${dir}`, `oci:${dir}-verify:x`])).code === 0;
}

const CLEAN_EXITS = [3, 4, 5, 6];

async function bigTar(): Promise<string> {
  const tar = join(t.dir, "big.tar");
  if (!existsSync(tar)) await bigSave(200, tar);
  return tar;
}

describe("faults", () => {
  test(`soak: ${OPS} pulls and ${OPS} pushes through a ${RATE * 100}% fault rate end correct or cleanly failed`, async () => {
    const want = (await imgx(["digest", `${reg.host}/soak/src:1`])).stdout.trim();
    proxy.set({ rate: RATE });
    for (let i = 0; i < OPS; i++) {
      const dest = join(t.dir, `pull-${i}`);
      const r = await imgx(["pull", "-q", "--all-platforms", "--timeout", "2", "--retries", "4", `${proxy.host}/soak/src:1`, `oci:${dest}:1`]);
      soakReport.pulls++;
      if (r.code === 0) {
        const got = JSON.parse((await imgx(["inspect", "--json", "--all-platforms", `oci:${dest}:1`])).stdout).digest;
        if (got === want && (await layoutIsSound(dest))) soakReport.ok++;
        else soakReport.corrupt++;
      } else {
        expect({ i, code: CLEAN_EXITS.includes(r.code), lines: r.stderr.trim().split("\n").length }).toEqual({ i, code: true, lines: 1 });
        // whatever is left is never a committed image: no index.json, or a sound one
        if (existsSync(join(dest, "index.json")) && !(await layoutIsSound(dest))) soakReport.corrupt++;
        else soakReport.cleanFailures++;
      }
    }
    for (let i = 0; i < OPS; i++) {
      const tag = `p${i}`;
      const r = await imgx(["push", "-q", "--timeout", "2", "--retries", "4", "--upload-mode", i % 2 ? "chunked" : "auto", "--chunk-size", "4096", join(fx, i % 3 === 0 ? "legacy-save.tar" : "docker25-save.tar"), `${proxy.host}/soak/dst:${tag}`]);
      soakReport.pushes++;
      // verify against the registry directly, past the proxy
      const direct = await run(["skopeo", "copy", "-q", "--src-tls-verify=false", `docker://${reg.host}/soak/dst:${tag}`, `oci:${join(t.dir, `pv-${i}`)}:x`]);
      if (r.code === 0) {
        if (direct.code === 0) soakReport.ok++;
        else soakReport.corrupt++;
      } else {
        expect({ i, code: CLEAN_EXITS.includes(r.code) }).toEqual({ i, code: true });
        // a failed push never leaves a tag pointing at an image with missing blobs
        if (direct.code === 0 || /manifest unknown|not found/i.test(direct.stderr)) soakReport.cleanFailures++;
        else soakReport.corrupt++;
      }
    }
    proxy.set({ rate: 0 });
    soakReport.faults = { ...proxy.stats.faults };
    const injected = Object.values(soakReport.faults).reduce((a, b) => a + b, 0);
    process.stderr.write(`soak: ${JSON.stringify({ ...soakReport, injected })}\n`);
    expect(soakReport.corrupt).toBe(0);
    expect(injected).toBeGreaterThan(20);
    expect(soakReport.ok).toBeGreaterThan(OPS);
  }, 240_000);

  test("kill -9 during a 200 MB pull, then rerun: the rerun downloads less than the whole image", async () => {
    const tar = await bigTar();
    const push = await imgx(["push", "-q", "--compress", "none", tar, `${reg.host}/big/app:1`]);
    expect(push.code).toBe(0);
    const total = JSON.parse((await imgx(["inspect", "--json", `${reg.host}/big/app:1`])).stdout).totalSize as number;
    proxy.set({ rate: 0, throttle: 60 * 1024 * 1024 });
    const start = proxy.stats.blobBytes;
    const dest = join(t.dir, "big-pull");
    const p = Bun.spawn([IMGX, "pull", "-q", `${proxy.host}/big/app:1`, dest], { stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 20_000;
    while (proxy.stats.blobBytes - start < total * 0.4 && Date.now() < deadline) await Bun.sleep(20);
    p.kill(9);
    await p.exited;
    const firstRun = proxy.stats.blobBytes - start;
    expect(firstRun).toBeLessThan(total);
    expect(readdirSync(join(dest, "blobs", "sha256")).some((f) => f.endsWith(".partial"))).toBe(true);
    proxy.set({ throttle: 0 });
    const before = proxy.stats.blobBytes;
    const again = await imgx(["pull", "-q", `${proxy.host}/big/app:1`, dest]);
    expect(again.code).toBe(0);
    const secondRun = proxy.stats.blobBytes - before;
    process.stderr.write(`kill-9 resume: image ${total} bytes, first run ${firstRun}, rerun ${secondRun}\n`);
    expect(secondRun).toBeLessThan(total - firstRun * 0.5);
    expect(readdirSync(join(dest, "blobs", "sha256")).some((f) => f.endsWith(".partial"))).toBe(false);
    expect(await layoutIsSound(dest)).toBe(true);
  }, 120_000);

  test("a push that failed mid-upload resumes where the registry says the upload stands", async () => {
    // distribution 2.8 invalidates an upload whose PATCH was cut mid-body, so the interruption here is a
    // refused PATCH (as from a proxy or a registry restart): the registry's state stays consistent
    const tar = await bigTar();
    const env = { XDG_CACHE_HOME: join(t.dir, "cache") };
    const args = (repo: string, extra: string[] = []) => ["push", "-q", "-j", "1", "--compress", "none", "--upload-mode", "chunked", "--chunk-size", "8M", ...extra, tar, `${proxy.host}/${repo}:1`];
    const patches = (repo: string) => loggedRequests(reg.logPath).filter((q) => q.method === "PATCH" && q.uri.includes(`/${repo}/`)).length;
    proxy.set({ rate: 0, throttle: 0 });
    expect((await imgx(args("clean/app"), { env })).code).toBe(0);
    const clean = patches("clean/app");
    proxy.set({ failPatch: 6 });
    const first = await imgx(args("resume/app", ["--retries", "0"]), { env });
    expect(first.code).toBe(5);
    const rerun = await imgx(args("resume/app"), { env });
    expect(rerun.code).toBe(0);
    process.stderr.write(`push resume: clean push ${clean} PATCHes; failed run + rerun ${patches("resume/app")}\n`);
    // no chunk the registry already held was sent again
    expect(patches("resume/app")).toBe(clean);
    expect((await run(["skopeo", "copy", "-q", "--src-tls-verify=false", `docker://${reg.host}/resume/app:1`, `oci:${join(t.dir, "resume-verify")}:x`])).code).toBe(0);
  }, 120_000);
});
