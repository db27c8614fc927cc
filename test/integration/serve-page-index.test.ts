// imgx serve's page in Debian chromium with multi-platform archives: "all platforms" (the default)
// pushes each platform's manifest and the index under the tag, the shared layer sent once; skopeo and
// imgx pull then read the platforms back. One platform chosen instead pushes just that image.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { launchChromium } from "../harness/browser.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeo } from "../harness/skopeo.ts";
import { imgx, tempDir } from "../helpers/imgx.ts";
import { call, startServe, type Serve } from "../helpers/serve.ts";
import { multiPlatformDocker25, multiPlatformOci } from "../../fixtures/multi-platform.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";
// @ts-ignore: the page's browser module (plain JS)
import { choicesOf, indexUpload } from "../../src/serve/page/platforms.js";

// globals of the page, used only inside page.evaluate callbacks (this file is typed for Bun, not the DOM)
declare const document: any;

const SHOTS = resolve(import.meta.dir, "../../test-output/screenshots");
let reg: RunningRegistry;
let s: Serve;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const tmp = tempDir("imgx-serve-page-index-");
const ociTar = join(tmp.dir, "multi-platform-oci.tar");
const dockerTar = join(tmp.dir, "multi-platform-docker25.tar");

async function open(file: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(s.url);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
  await page.setInputFiles("[data-testid=file]", file);
  await page.waitForFunction(() => !(document.querySelector("[data-testid=upload]") as any).disabled || !document.querySelector("#file-error")!.hasAttribute("hidden"), null, { timeout: 15_000 });
  return page;
}

async function upload(page: Page, target: string): Promise<string> {
  await page.fill("[data-testid=reference]", target);
  await page.click("[data-testid=upload]");
  await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 30_000 });
  const digest = await page.textContent("[data-testid=result] [data-testid=digest]");
  if (!digest) throw new Error(`no digest: ${await page.textContent("[data-testid=result]")}`);
  return digest;
}

const received = async () => (await call(s, "GET", "/api/stats")).body.receivedBytes as number;
const sha256 = (b: string | Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await multiPlatformOci(ociTar);
  await multiPlatformDocker25(dockerTar);
  reg = await startRegistry("open");
  s = await startServe(["--registry", reg.host]);
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve page: multi-platform archives", () => {
  test("OCI archive, all platforms (the default): one OCI index; skopeo and imgx pull --platform linux/arm64 get the arm64 image", async () => {
    const page = await open(ociTar);
    expect(await page.isChecked("[data-testid=all-platforms]")).toBe(true);
    expect(await page.textContent("#images")).toContain("All platforms: linux/amd64, linux/arm64/v8");
    const target = `${reg.host}/page/multi:1`;
    const before = await received();
    const digest = await upload(page, target);
    await page.screenshot({ path: join(SHOTS, "serve-upload-index.png"), fullPage: true });
    const result = (await page.textContent("[data-testid=result]"))!;
    expect(result).toContain("OCI image index");
    expect(result).toContain("linux/arm64/v8 →");
    expect(result).toContain(`imgx pull --platform linux/arm64/v8 ${target}`);
    await page.close();
    // the layer both platforms share crossed the wire once
    const all = choicesOf(await readArchive(Bun.file(ociTar)))[0];
    const distinct = indexUpload(all).layers.reduce((a: number, l: { size: number }) => a + l.size, 0);
    expect((await received()) - before).toBe(distinct);

    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${target}`]);
    expect(sha256(raw)).toBe(digest);
    const index = JSON.parse(raw);
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m: any) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    const armConfig = JSON.parse(await skopeo(["inspect", "--config", "--override-arch", "arm64", "--tls-verify=false", `docker://${target}`]));
    expect(armConfig.architecture).toBe("arm64");
    expect(armConfig.config.Labels["org.example.fixture"]).toBe("mp-arm64");
    expect(armConfig.rootfs.diff_ids).toEqual(all.images[1].config.rootfs.diff_ids);

    const out = join(tmp.dir, "pulled-arm64");
    const r = await imgx(["pull", "--plain-http", "--quiet", "--platform", "linux/arm64", target, out]);
    expect(r.code).toBe(0);
    const layout = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    const manifest = JSON.parse(readFileSync(join(out, "blobs/sha256", layout.manifests[0].digest.slice(7)), "utf8"));
    expect(layout.manifests[0].digest).toBe(index.manifests[1].digest);
    const cfg = JSON.parse(readFileSync(join(out, "blobs/sha256", manifest.config.digest.slice(7)), "utf8"));
    expect(cfg.architecture).toBe("arm64");
  }, 90_000);

  test("Docker 25+ save: all platforms become a docker manifest list (the platform not saved is named and left out); one platform chosen pushes only it", async () => {
    let page = await open(dockerTar);
    expect(await page.isChecked("[data-testid=all-platforms]")).toBe(true);
    expect(await page.textContent("#images")).toContain("Not in the archive, so not in the index: linux/s390x");
    expect(await page.inputValue("[data-testid=reference]")).toBe(`${reg.host}/mp:3`);
    await upload(page, `${reg.host}/page/d25:3`);
    expect(await page.textContent("[data-testid=result]")).toContain("docker manifest list");
    await page.close();
    const list = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/page/d25:3`]));
    expect(list.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(list.manifests.map((m: any) => m.platform.architecture)).toEqual(["amd64", "arm64"]);

    // the arm64 image alone: a plain image manifest under the tag, no index
    page = await open(dockerTar);
    await page.getByLabel(/linux\/arm64\/v8 · oci · this platform only/).check();
    await upload(page, `${reg.host}/page/d25:arm64`);
    await page.close();
    const one = JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/page/d25:arm64`]));
    expect(one.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    const cfg = JSON.parse(await skopeo(["inspect", "--config", "--tls-verify=false", `docker://${reg.host}/page/d25:arm64`]));
    expect(cfg.architecture).toBe("arm64");
  }, 90_000);
});
