// imgx serve through a real browser (Debian chromium + playwright-core): a ~200 MiB docker-save is
// uploaded through the page, the connection is cut 3/4 of the way, the tab reloaded and the file picked
// again; skopeo then reads the image with the tarball's diff_ids. Screenshots go to test-output/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium } from "../harness/browser.ts";
import { startCutProxy, type CutProxy } from "../harness/cut-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeoPulledDiffIds } from "../harness/skopeo.ts";
import { tempDir } from "../helpers/imgx.ts";
import { call, startServe, type Serve } from "../helpers/serve.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";

// globals of the page, used only inside page.evaluate callbacks (this file is typed for Bun, not the DOM)
declare const document: any, window: any, localStorage: any, getComputedStyle: any;

const SHOTS = resolve(import.meta.dir, "../../test-output/screenshots");
let reg: RunningRegistry;
let s: Serve;
let proxy: CutProxy;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const tmp = tempDir("imgx-serve-page-");
const big = join(tmp.dir, "big-save.tar");
const fx = join(tmp.dir, "fx");

async function open(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(proxy.url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
  return page;
}

async function pick(page: Page, file: string): Promise<void> {
  await page.setInputFiles("[data-testid=file]", file);
  await page.waitForFunction(() => !(document.querySelector("[data-testid=upload]") as any).disabled || !document.querySelector("#file-error")!.hasAttribute("hidden"), null, { timeout: 15_000 });
}

const received = async () => (await call(s, "GET", "/api/stats")).body.receivedBytes as number;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const gens = [Bun.spawn([process.execPath, "fixtures/generate.ts", "--big", "200", big], { stdout: "ignore", stderr: "ignore" }), Bun.spawn([process.execPath, "fixtures/generate.ts", fx], { stdout: "ignore", stderr: "ignore" })];
  for (const g of gens) expect(await g.exited).toBe(0);
  reg = await startRegistry("open");
  s = await startServe(["--registry", reg.host, "--chunk-size", "8M"]);
  // the browser reaches the server through a proxy whose connections the test can cut
  proxy = startCutProxy(Number(new URL(s.url).port));
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  proxy?.stop();
  await s?.stop();
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve in chromium", () => {
  test("200 MiB docker-save: cut part-way, reload, re-pick, completes; skopeo sees the same diff_ids", async () => {
    const size = Bun.file(big).size;
    const target = `${reg.host}/page/big:1`;
    let page = await open();
    await pick(page, big);
    expect(await page.inputValue("[data-testid=reference]")).toBe(`${reg.host}/imgx-bench/big:1`);
    await page.fill("[data-testid=reference]", target);
    await page.click("[data-testid=upload]");
    const start = await received();
    const t0 = Date.now();
    const cdp = await browser.context.newCDPSession(page);
    const throttle = (bytesPerSec: number) => cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSec });
    await cdp.send("Network.enable");
    // a third of the way: the page's network slows to 8 MiB/s (an 8 MiB chunk then takes a second)
    // and its connections are cut, mid-chunk; the page retries by itself and re-hashes to where the server stands
    while ((await received()) - start < size / 3) await Bun.sleep(20);
    await throttle(8 * 1024 * 1024);
    await Bun.sleep(700);
    expect(proxy.cutAll()).toBeGreaterThan(0);
    await throttle(-1);
    await Bun.sleep(200);
    // the server counts a cut chunk once what arrived of it is in the registry: give it time
    let cutsInPage = 0;
    for (let t = 0; t < 200 && cutsInPage === 0; t++) {
      cutsInPage = (await call(s, "GET", "/api/stats")).body.cutChunks;
      if (!cutsInPage) await Bun.sleep(50);
    }
    expect(cutsInPage).toBeGreaterThan(0);
    // two layers upload at once and half the file is exactly two of the four layers: cut at 3/4,
    // half-way into the last two, so a resume that restarted layers would cost a quarter more
    while ((await received()) - start < (size * 3) / 4) await Bun.sleep(20);
    // what the page saved so far (the hash-wasm state with the offset of every acknowledged chunk)
    const saved = await page.evaluate(() => Object.entries(localStorage as Record<string, string>).filter(([k]) => k.startsWith("imgx-upload:")).map(([, v]) => JSON.parse(v)));
    // the page's network slows to 8 MiB/s (an 8 MiB chunk then takes a second), and reloading the
    // tab drops the connections with the chunks in flight, mid-body
    await throttle(8 * 1024 * 1024);
    await Bun.sleep(1500);
    await page.reload();
    await throttle(-1);
    expect(saved.length).toBe(1);
    expect(Object.values(saved[0].layers).some((l: any) => l.offset > 0 && l.state)).toBe(true);
    await page.waitForSelector("body[data-ready='1']");
    await pick(page, big);
    expect(await page.isVisible("#resume-note")).toBe(true);
    expect(await page.inputValue("[data-testid=reference]")).toBe(target);
    await page.click("[data-testid=upload]");
    await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 90_000 });
    console.log(`serve-page: done after ${Date.now() - t0} ms`);
    await page.screenshot({ path: join(SHOTS, "serve-upload.png"), fullPage: true });
    const digest = await page.textContent("[data-testid=result] [data-testid=digest]");
    if (!digest) console.log(`serve-page: no digest; result: ${await page.textContent("[data-testid=result]")}; progress: ${await page.textContent("[data-testid=progress]")}`);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const total = (await received()) - start;
    console.log(`serve-page: ${size} byte file, server received ${total} bytes (${(total / size).toFixed(2)}×)`);
    expect(total).toBeLessThan(2 * size);
    expect(total).toBeLessThan(1.1 * size);
    // the cut really happened inside a chunk, and what arrived of it was kept
    expect((await call(s, "GET", "/api/stats")).body.cutChunks).toBeGreaterThan(cutsInPage);
    const layerBytes = (await readArchive(Bun.file(big)))[0].layers.reduce((a: number, l: { size: number }) => a + l.size, 0);
    expect(total).toBeGreaterThanOrEqual(layerBytes);
    await page.close();

    const t1 = Date.now();
    // skopeo reads it back: every layer un-gzips to the diff_id the tarball's config lists
    const [img] = await readArchive(Bun.file(big));
    const want = img.config.rootfs.diff_ids as string[];
    const out = join(tmp.dir, "pulled");
    const pulled = await skopeoPulledDiffIds(target, out);
    expect(pulled.layers).toEqual(want);
    expect(pulled.config).toEqual(want);
    expect(readdirSync(out).length).toBeGreaterThan(want.length);
    console.log(`serve-page: skopeo check ${Date.now() - t1} ms`);
  }, 120_000);

  test("a truncated tar gets a clear message in the page; nothing is uploaded", async () => {
    const cut = join(tmp.dir, "cut.tar");
    const bytes = readFileSync(join(fx, "legacy-save.tar"));
    await Bun.write(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const page = await open();
    await pick(page, cut);
    expect(await page.textContent("#file-error")).toContain("Truncated tar");
    expect(await page.isDisabled("[data-testid=upload]")).toBe(true);
    await page.close();
  }, 30_000);

  test("keyboard only, phone width, dark scheme: pick, edit the reference, Enter uploads; browse shows it", async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(proxy.url);
    await page.waitForSelector("body[data-ready='1']");
    await pick(page, join(fx, "docker25-save.tar"));
    await page.focus("[data-testid=file]");
    // Tab moves from the file input to the image choice, then to the reference field
    for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.id)) !== "reference"; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("reference");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("kb/app:2");
    await page.keyboard.press("Enter");
    await page.waitForSelector("[data-testid=result] [data-testid=digest]", { timeout: 30_000 });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe("rgb(21, 24, 28)");
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: join(SHOTS, "serve-upload-phone-dark.png"), fullPage: true });
    // browse: the tab, the repository, the tag — all by keyboard
    await page.focus("[role=tab][data-view=browse]");
    await page.keyboard.press("Enter");
    const repo = page.getByRole("button", { name: "kb/app" });
    await repo.waitFor({ timeout: 15_000 });
    await repo.focus();
    await page.keyboard.press("Enter");
    const tag = page.getByRole("button", { name: "2", exact: true });
    await tag.waitFor();
    await tag.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("#image section.platform");
    const text = await page.textContent("#image");
    expect(text).toContain("linux/amd64");
    expect(text).toContain(await page.evaluate(() => document.querySelector("[data-testid=digest]")?.textContent ?? "missing"));
    await page.screenshot({ path: join(SHOTS, "serve-browse-phone-dark.png"), fullPage: true });
    await page.close();
  }, 60_000);
});
