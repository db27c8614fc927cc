// Debian's chromium driven by playwright-core: no browser download, a fresh profile per launch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export async function launchChromium(): Promise<{ context: BrowserContext; profile: string; close(): Promise<void> }> {
  if (!Bun.which("chromium")) throw new Error("chromium is not installed; the test suite needs it (apt-get install -y chromium)");
  const profile = mkdtempSync(join(tmpdir(), "imgx-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 900 },
    timeout: 30_000,
  });
  return {
    context,
    profile,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
