// imgx serve through a real browser vs imgx push, same docker-save, same run, fresh registry each
// time: page throughput ÷ push throughput (target ≥ 0.7) and the server's peak RSS (target < 200 MB).
//   bash scripts/bench/run serve [--runs 3] [--size-mb 1024] [--corpus real|random|both]
import { existsSync, readFileSync } from "node:fs";
import { launchChromium } from "../../test/harness/browser.ts";
import { startRegistry, type RunningRegistry } from "../../test/harness/registry.ts";

interface Ctx {
  imgx: string;
  runs: number;
}

/** A docker-save to upload: the real-file corpus (deflate works, server CPU-bound) or random bytes (stored). */
export interface ServeCorpus {
  name: string;
  tar: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

function warmMemory(): void {
  // as in measure.ts: this VM returns freed memory to its host; start every run from backed memory
  Bun.spawnSync([process.execPath, "-e", "new Uint8Array(2 ** 31).fill(1)"]);
}

async function timedPush(c: Ctx, tar: string, reg: RunningRegistry): Promise<{ secs: number; rss: number }> {
  Bun.spawnSync(["sync"]);
  warmMemory();
  const t0 = performance.now();
  const p = Bun.spawn([...(TIME ? [TIME, "-f", "%M"] : []), c.imgx, "push", "--quiet", "--plain-http", tar, `${reg.host}/bench/push:1`], { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  const secs = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`imgx push exited ${code}: ${err.slice(-400)}`);
  return { secs, rss: TIME ? Number(err.trim().split("\n").pop()) / 1024 : NaN };
}

/** One upload through the page; the time runs from the click to the digest on screen. */
async function timedPage(c: Ctx, tar: string, reg: RunningRegistry): Promise<{ secs: number; rss: number }> {
  Bun.spawnSync(["sync"]);
  warmMemory();
  const serve = Bun.spawn([...(TIME ? [TIME, "-f", "%M"] : []), c.imgx, "serve", "--listen", "127.0.0.1:0", "--plain-http", "--registry", reg.host], { stdout: "pipe", stderr: "pipe" });
  const errText = new Response(serve.stderr).text();
  const reader = (serve.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  while (!/listening on (\S+)/.test(out)) {
    const r = await reader.read();
    if (r.done) throw new Error(`imgx serve did not start: ${out}${await errText}`);
    out += new TextDecoder().decode(r.value);
  }
  const url = /listening on (\S+)/.exec(out)![1]!;
  const browser = await launchChromium();
  let secs = NaN;
  try {
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']");
    await page.setInputFiles("[data-testid=file]", tar);
    await page.waitForFunction(() => !(globalThis as any).document.querySelector("[data-testid=upload]").disabled, null, { timeout: 60_000 });
    await page.fill("[data-testid=reference]", `${reg.host}/bench/page:1`);
    const t0 = performance.now();
    await page.click("[data-testid=upload]");
    await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 600_000 });
    secs = (performance.now() - t0) / 1000;
    const result = await page.textContent("[data-testid=result]");
    if (!/sha256:[a-f0-9]{64}/.test(result ?? "")) throw new Error(`page upload failed: ${result}`);
  } finally {
    await browser.close();
    // under GNU time, signal imgx itself (time would die of SIGTERM and orphan it)
    const child = TIME ? Number(readFileSync(`/proc/${serve.pid}/task/${serve.pid}/children`, "utf8").trim().split(/\s+/)[0]) : 0;
    if (child) process.kill(child, "SIGTERM");
    else serve.kill("SIGTERM");
    await serve.exited;
  }
  // GNU time prints serve's peak RSS (KiB) as the last line of its stderr when it exits
  const rss = TIME ? Number((await errText).trim().split("\n").pop()) / 1024 : NaN;
  return { secs, rss };
}

export async function benchServe(c: Ctx, corpus: ServeCorpus): Promise<void> {
  const tar = corpus.tar;
  const push: { secs: number; rss: number }[] = [];
  const page: { secs: number; rss: number }[] = [];
  for (let i = 0; i < c.runs; i++) {
    // alternate which goes first; a fresh registry for every run
    for (const which of i % 2 ? ["page", "push"] : ["push", "page"]) {
      const reg = await startRegistry("open");
      process.stderr.write(`serve bench (${corpus.name}): run ${i + 1}/${c.runs}: ${which}\n`);
      try {
        if (which === "push") push.push(await timedPush(c, tar, reg));
        else page.push(await timedPage(c, tar, reg));
      } finally {
        await reg.stop();
      }
    }
  }
  const pushS = median(push.map((r) => r.secs));
  const pageS = median(page.map((r) => r.secs));
  const mib = Bun.file(tar).size / 2 ** 20;
  console.log(`### web upload (imgx serve + chromium) vs imgx push, ${corpus.name} corpus, ${mib.toFixed(0)} MiB docker-save, fresh registry each run\n`);
  console.log("| path | median s | MiB/s | peak RSS MiB | runs (s) |\n|---|---|---|---|---|");
  console.log(`| imgx push | ${pushS.toFixed(2)} | ${(mib / pushS).toFixed(0)} | ${median(push.map((r) => r.rss)).toFixed(0)} | ${push.map((r) => r.secs.toFixed(2)).join(", ")} |`);
  console.log(`| page → imgx serve | ${pageS.toFixed(2)} | ${(mib / pageS).toFixed(0)} | ${Math.max(...page.map((r) => r.rss)).toFixed(0)} (serve, max) | ${page.map((r) => r.secs.toFixed(2)).join(", ")} |`);
  console.log(`\npage ÷ push throughput: **${(pushS / pageS).toFixed(2)}×** (target ≥ 0.7); imgx serve peak RSS **${Math.max(...page.map((r) => r.rss)).toFixed(0)} MiB** (target < 200 MB)\n`);
}
