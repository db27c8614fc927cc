// imgx serve when the *registry* fails mid-layer (a fault proxy between serve and docker-registry
// answers one of serve's PATCHes with 500): the registry's copy of that layer is then unknown, so
// serve drops the session and the page starts the layer over by itself. The upload still ends with
// the image in the registry, each layer un-gzipping to the tarball's diff_id, read back by skopeo.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { launchChromium } from "../harness/browser.ts";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeoPulledDiffIds } from "../harness/skopeo.ts";
import { tempDir } from "../helpers/imgx.ts";
import { call, startServe, type Serve } from "../helpers/serve.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";

declare const document: any;

let reg: RunningRegistry;
let faults: FaultProxy;
let s: Serve;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const tmp = tempDir("imgx-serve-regfault-");
const tar = join(tmp.dir, "save.tar");

beforeAll(async () => {
  const g = Bun.spawn([process.execPath, "fixtures/generate.ts", "--big", "24", tar], { stdout: "ignore", stderr: "ignore" });
  expect(await g.exited).toBe(0);
  reg = await startRegistry("open");
  faults = startFaultProxy(reg.host);
  // 1 MiB chunks: every layer goes up in several PATCHes, so the failing one is mid-layer
  s = await startServe(["--registry", faults.host, "--chunk-size", "1M"]);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
  faults?.stop();
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve, registry failing mid-layer", () => {
  test("the page restarts the layer and completes; skopeo reads the tarball's diff_ids", async () => {
    const [img] = await readArchive(Bun.file(tar));
    const layerBytes = img.layers.reduce((a: number, l: { size: number }) => a + l.size, 0);
    const target = `${faults.host}/regfault/app:1`;
    const page = await browser.context.newPage();
    await page.goto(s.url);
    await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
    await page.setInputFiles("[data-testid=file]", tar);
    await page.waitForFunction(() => !document.querySelector("[data-testid=upload]").disabled, null, { timeout: 15_000 });
    await page.fill("[data-testid=reference]", target);
    // the 4th PATCH serve sends to the registry (inside the 2nd or 3rd layer) fails
    faults.set({ failPatch: 4 });
    await page.click("[data-testid=upload]");
    await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 90_000 });
    const result = await page.textContent("[data-testid=result]");
    expect(result).toMatch(/sha256:[a-f0-9]{64}/);
    expect(faults.stats.faults["upload-500"]).toBe(1);
    // the failed layer was sent again from its start: more than the layers' bytes, less than twice
    const received = (await call(s, "GET", "/api/stats")).body.receivedBytes as number;
    expect(received).toBeGreaterThan(layerBytes);
    expect(received).toBeLessThan(2 * layerBytes);
    await page.close();

    const pulled = await skopeoPulledDiffIds(`${reg.host}/regfault/app:1`, join(tmp.dir, "pulled"));
    expect(pulled.layers).toEqual(img.config.rootfs.diff_ids);
    expect(pulled.config).toEqual(img.config.rootfs.diff_ids);
  }, 120_000);
});
