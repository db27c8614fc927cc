// imgx serve's page with gzip- and zstd-compressed tarballs, in Debian's chromium: made with the real
// gzip and zstd tools, pushed through the page into docker-registry, read back by skopeo with the
// config's diff_ids; one upload cut and reloaded half-way (the page decompresses again up to where
// it stopped: "catching up"); a cut .tar.gz and a file changed under the page push nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { docker25Save, legacySave } from "../../fixtures/generate.ts";
import { launchChromium } from "../harness/browser.ts";
import { startCutProxy, type CutProxy } from "../harness/cut-proxy.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeoPulledDiffIds } from "../harness/skopeo.ts";
import { tempDir } from "../helpers/imgx.ts";
import { call, startServe, type Serve } from "../helpers/serve.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";

// globals of the page, used only inside page.evaluate callbacks (this file is typed for Bun, not the DOM)
declare const document: any, window: any, localStorage: any, MutationObserver: any;

const SHOTS = resolve(import.meta.dir, "../../test-output/screenshots");
let reg: RunningRegistry;
let s: Serve;
let proxy: CutProxy;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const tmp = tempDir("imgx-serve-gz-");
const at = (n: string) => join(tmp.dir, n);

/** `gzip -c` / `zstd -c` of a file, as a user would make it (`docker save app | gzip > app.tar.gz`). */
async function pack(tool: "gzip" | "zstd", src: string, out: string): Promise<string> {
  const p = Bun.spawn([tool, tool === "gzip" ? "-1" : "-3", "-c", src], { stdout: Bun.file(out), stderr: "pipe" });
  expect(await p.exited).toBe(0);
  return out;
}

async function open(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(proxy.url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
  return page;
}

async function pick(page: Page, file: string): Promise<void> {
  await page.setInputFiles("[data-testid=file]", file);
  await page.waitForFunction(() => !(document.querySelector("[data-testid=upload]") as any).disabled || !document.querySelector("#file-error")!.hasAttribute("hidden"), null, { timeout: 30_000 });
}

async function uploadTo(page: Page, target: string, timeout = 60_000): Promise<string> {
  await page.fill("[data-testid=reference]", target);
  await page.click("[data-testid=upload]");
  await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout });
  const digest = await (await page.$("[data-testid=result] [data-testid=digest]"))?.textContent();
  if (!digest) console.log(`serve-page-compressed: no digest; ${await page.textContent("[data-testid=result]")} / ${await page.textContent("[data-testid=progress]")}`);
  return digest ?? "";
}

const received = async () => (await call(s, "GET", "/api/stats")).body.receivedBytes as number;

/** skopeo pulls the image; every layer un-gzips to the diff_id the plain tarball's config lists. */
async function expectDiffIds(target: string, plainTar: string, name: string): Promise<void> {
  const [img] = await readArchive(Bun.file(plainTar));
  const want = img.config.rootfs.diff_ids as string[];
  const pulled = await skopeoPulledDiffIds(target, at(`pulled-${name}`));
  expect(pulled.layers).toEqual(want);
  expect(pulled.config).toEqual(want);
}

/** The tags the registry holds for a repository ([] when the repository does not exist). */
async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags?: string[] }).tags ?? [];
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await legacySave(at("legacy.tar"));
  await docker25Save(at("d25.tar"));
  const big = Bun.spawn([process.execPath, "fixtures/generate.ts", "--big", "96", at("big.tar")], { stdout: "ignore", stderr: "ignore" });
  expect(await big.exited).toBe(0);
  await Promise.all([pack("gzip", at("legacy.tar"), at("legacy.tar.gz")), pack("zstd", at("d25.tar"), at("d25.tar.zst")), pack("gzip", at("big.tar"), at("big.tar.gz"))]);
  reg = await startRegistry("open");
  s = await startServe(["--registry", reg.host, "--chunk-size", "4M"]);
  proxy = startCutProxy(Number(new URL(s.url).port));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  proxy?.stop();
  await s?.stop();
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve page: compressed tarballs in chromium", () => {
  test("a .tar.gz (legacy docker-save) and a .tar.zst (Docker 25+) are pushed; skopeo sees the config's diff_ids", async () => {
    for (const [file, plain, repo] of [
      [at("legacy.tar.gz"), at("legacy.tar"), "gz/legacy"],
      [at("d25.tar.zst"), at("d25.tar"), "zst/d25"],
    ] as const) {
      const page = await open();
      await pick(page, file);
      expect(await page.isVisible("#file-error")).toBe(false);
      expect(await page.textContent("#images h2")).toContain(file.endsWith(".gz") ? "gzip" : "zstd");
      expect(await uploadTo(page, `${reg.host}/${repo}:1`)).toMatch(/^sha256:[a-f0-9]{64}$/);
      await page.close();
      await expectDiffIds(`${reg.host}/${repo}:1`, plain, repo.replace("/", "-"));
    }
  }, 90_000);

  test("96 MiB .tar.gz: cut mid-chunk, then reloaded half-way and re-picked: catches up without re-sending, completes", async () => {
    const target = `${reg.host}/gz/big:1`;
    const layerBytes = (await readArchive(Bun.file(at("big.tar"))))[0].layers.reduce((a: number, l: { size: number }) => a + l.size, 0);
    let page = await open();
    await pick(page, at("big.tar.gz"));
    await page.fill("[data-testid=reference]", target);
    const start = await received();
    await page.click("[data-testid=upload]");
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    const throttle = (bytesPerSec: number) => cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSec });
    // a quarter of the way: the network slows to 4 MiB/s (a 4 MiB chunk then takes a second) and the
    // connections are cut mid-chunk; the page retries from the decompressed chunk it still holds
    while ((await received()) - start < layerBytes / 4) await Bun.sleep(20);
    await throttle(4 * 1024 * 1024);
    await Bun.sleep(600);
    expect(proxy.cutAll()).toBeGreaterThan(0);
    await throttle(-1);
    // the server counts a cut chunk once what arrived of it is in the registry
    let cuts = 0;
    for (let t = 0; t < 200 && cuts === 0; t++) {
      cuts = (await call(s, "GET", "/api/stats")).body.cutChunks;
      if (!cuts) await Bun.sleep(50);
    }
    expect(cuts).toBeGreaterThan(0);
    // past half-way (into the third of four layers, sent one after another): slow down, reload mid-chunk
    while ((await received()) - start < (layerBytes * 5) / 8) await Bun.sleep(20);
    await throttle(4 * 1024 * 1024);
    await Bun.sleep(1500);
    const saved = await page.evaluate(() => Object.entries(localStorage as Record<string, string>).filter(([k]) => k.startsWith("imgx-upload:")).map(([, v]) => JSON.parse(v)));
    await page.reload();
    await throttle(-1);
    expect(saved.length).toBe(1);
    expect(Object.values(saved[0].layers).some((l: any) => l.offset > 0 && l.state)).toBe(true);
    await page.waitForSelector("body[data-ready='1']");
    await pick(page, at("big.tar.gz"));
    expect(await page.isVisible("#resume-note")).toBe(true);
    expect(await page.inputValue("[data-testid=reference]")).toBe(target);
    // the page says it is catching up (decompressing to the resume point) before it sends again
    await page.evaluate(() => {
      const box = document.querySelector("[data-testid=progress]");
      new MutationObserver(() => /catching up/.test(box.textContent) && (window.sawCatchingUp = true)).observe(box, { subtree: true, childList: true, characterData: true });
    });
    await page.click("[data-testid=upload]");
    await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 90_000 });
    await page.screenshot({ path: join(SHOTS, "serve-upload-gzip-resumed.png"), fullPage: true });
    expect(await page.textContent("[data-testid=result] [data-testid=digest]")).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await page.evaluate(() => window.sawCatchingUp)).toBe(true);
    const total = (await received()) - start;
    console.log(`serve-page-compressed: layers ${layerBytes} bytes, server received ${total} (${(total / layerBytes).toFixed(2)}×)`);
    expect(total).toBeGreaterThanOrEqual(layerBytes);
    expect(total).toBeLessThan(1.1 * layerBytes);
    expect((await call(s, "GET", "/api/stats")).body.cutChunks).toBeGreaterThan(cuts); // the reload cut a chunk too
    await page.close();
    await expectDiffIds(target, at("big.tar"), "big");
  }, 180_000);

  test("a cut .tar.gz, and a .tar.gz cut after it was picked: a clear message, no tag in the registry", async () => {
    const whole = readFileSync(at("legacy.tar.gz"));
    writeFileSync(at("cut.tar.gz"), whole.subarray(0, Math.floor(whole.length * 0.6)));
    let page = await open();
    await pick(page, at("cut.tar.gz"));
    expect(await page.textContent("#file-error")).toMatch(/cut\.tar\.gz: (Cannot decompress cut\.tar\.gz \(gzip\): the data is corrupt, or the file was cut short|Truncated tar)/);
    expect(await page.isDisabled("[data-testid=upload]")).toBe(true);
    await page.close();

    // indexed whole, then cut on disk before the upload reads it again
    writeFileSync(at("later.tar.gz"), whole);
    page = await open();
    await pick(page, at("later.tar.gz"));
    expect(await page.isDisabled("[data-testid=upload]")).toBe(false);
    writeFileSync(at("later.tar.gz"), whole.subarray(0, Math.floor(whole.length * 0.6)));
    expect(await uploadTo(page, `${reg.host}/gz/bad:1`)).toBe("");
    expect(await page.textContent("[data-testid=result]")).toMatch(/Upload failed: Cannot decompress later\.tar\.gz \(gzip\)/);
    await page.close();
    expect(await tags("gz/bad")).toEqual([]);
  }, 60_000);
});
