// imgx serve through a real browser vs imgx push, same docker-save, same run, fresh registry each
// time: page throughput ÷ push throughput (target ≥ 0.7) and the server's peak RSS (target < 200 MB).
//   bash scripts/bench/run serve [--runs 3] [--size-mb 1024] [--corpus real|random|both]
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function cpuOf(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process whose command line names `marker` (chromium's profile directory), by --type. */
function cpuByType(marker: string): Map<string, number> {
  const by = new Map<string, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (!cmd.includes(marker)) continue;
      const type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? "browser";
      const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1];
      const key = sub ? `${type}:${sub.split(".").pop()}` : type;
      by.set(key, (by.get(key) ?? 0) + cpuOf(Number(d)));
    } catch {
      /* gone meanwhile */
    }
  }
  return by;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** GNU time's "%M %U %S" line: peak RSS in MiB and CPU seconds. */
function timeLine(err: string): { rss: number; cpu: number } {
  const [kib, user, sys] = err.trim().split("\n").pop()!.split(" ").map(Number);
  return { rss: kib! / 1024, cpu: user! + sys! };
}

interface Run {
  secs: number;
  rss: number;
  /** CPU seconds of the tool (imgx push, or imgx serve) */
  cpu: number;
  /** CPU seconds of the registry during the run */
  registryCpu: number;
  /** CPU seconds of chromium, all its processes (page runs only) */
  browserCpu: number;
}

function warmMemory(): void {
  // as in measure.ts: this VM returns freed memory to its host; start every run from backed memory
  Bun.spawnSync([process.execPath, "-e", "new Uint8Array(2 ** 31).fill(1)"]);
}

async function timedPush(c: Ctx, tar: string, reg: RunningRegistry): Promise<Run> {
  Bun.spawnSync(["sync"]);
  warmMemory();
  const reg0 = cpuOf(reg.pid);
  const t0 = performance.now();
  const p = Bun.spawn([...(TIME ? [TIME, "-f", "%M %U %S"] : []), c.imgx, "push", "--quiet", "--plain-http", tar, `${reg.host}/bench/push:1`], { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  const secs = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`imgx push exited ${code}: ${err.slice(-400)}`);
  const t = TIME ? timeLine(err) : { rss: NaN, cpu: NaN };
  return { secs, ...t, registryCpu: cpuOf(reg.pid) - reg0, browserCpu: 0 };
}

/** One upload through the page; the time runs from the click to the digest on screen. */
async function timedPage(c: Ctx, tar: string, reg: RunningRegistry): Promise<Run> {
  Bun.spawnSync(["sync"]);
  warmMemory();
  const serve = Bun.spawn([...(TIME ? [TIME, "-f", "%M %U %S"] : []), c.imgx, "serve", "--listen", "127.0.0.1:0", "--plain-http", "--registry", reg.host], { stdout: "pipe", stderr: "pipe" });
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
  let registryCpu = NaN;
  let browserCpu = NaN;
  try {
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']");
    await page.setInputFiles("[data-testid=file]", tar);
    await page.waitForFunction(() => !(globalThis as any).document.querySelector("[data-testid=upload]").disabled, null, { timeout: 60_000 });
    await page.fill("[data-testid=reference]", `${reg.host}/bench/page:1`);
    const reg0 = cpuOf(reg.pid);
    const browser0 = cpuByType(browser.profile);
    const t0 = performance.now();
    await page.click("[data-testid=upload]");
    await page.waitForSelector("[data-testid=result] [data-testid=digest], [data-testid=result] .error", { timeout: 600_000 });
    secs = (performance.now() - t0) / 1000;
    registryCpu = cpuOf(reg.pid) - reg0;
    const browser1 = cpuByType(browser.profile);
    browserCpu = total(browser1) - total(browser0);
    // which of chromium's processes spent it (renderer: the page's JS, hash-wasm, File reads; browser
    // and network service: the upload's file reads and sends)
    process.stderr.write(`  chromium CPU s by process: ${[...browser1].map(([k, v]) => `${k} ${(v - (browser0.get(k) ?? 0)).toFixed(2)}`).join(", ")}\n`);
    const result = await page.textContent("[data-testid=result]");
    // bytes of layer data the server received (resent bytes count twice): more than the layers means retries
    const stats = (await (await fetch(new URL("/api/stats", url))).json()) as { receivedBytes: number };
    process.stderr.write(`  imgx serve received ${(stats.receivedBytes / 2 ** 20).toFixed(0)} MiB of layer data\n`);
    if (!/sha256:[a-f0-9]{64}/.test(result ?? "")) throw new Error(`page upload failed: ${result}`);
  } finally {
    await browser.close();
    // under GNU time, signal imgx itself (time would die of SIGTERM and orphan it)
    const child = TIME ? Number(readFileSync(`/proc/${serve.pid}/task/${serve.pid}/children`, "utf8").trim().split(/\s+/)[0]) : 0;
    if (child) process.kill(child, "SIGTERM");
    else serve.kill("SIGTERM");
    await serve.exited;
  }
  // GNU time prints serve's peak RSS and CPU as the last line of its stderr when it exits (its CPU
  // includes start-up and the idle time before the click: a few hundredths of a second)
  const t = TIME ? timeLine(await errText) : { rss: NaN, cpu: NaN };
  return { secs, ...t, registryCpu, browserCpu };
}

export async function benchServe(c: Ctx, corpus: ServeCorpus): Promise<void> {
  const tar = corpus.tar;
  const push: Run[] = [];
  const page: Run[] = [];
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
  const cpu = (rs: Run[], f: (r: Run) => number) => median(rs.map(f)).toFixed(2);
  console.log("| path | median s | MiB/s | peak RSS MiB | CPU s: imgx | CPU s: registry | CPU s: chromium | CPU s: all | runs (s) |\n|---|---|---|---|---|---|---|---|---|");
  const line = (name: string, rs: Run[], secs: number, rss: string) =>
    console.log(`| ${name} | ${secs.toFixed(2)} | ${(mib / secs).toFixed(0)} | ${rss} | ${cpu(rs, (r) => r.cpu)} | ${cpu(rs, (r) => r.registryCpu)} | ${cpu(rs, (r) => r.browserCpu)} | ${cpu(rs, (r) => r.cpu + r.registryCpu + r.browserCpu)} | ${rs.map((r) => r.secs.toFixed(2)).join(", ")} |`);
  line("imgx push", push, pushS, median(push.map((r) => r.rss)).toFixed(0));
  line("page → imgx serve", page, pageS, `${Math.max(...page.map((r) => r.rss)).toFixed(0)} (serve, max)`);
  const all = (rs: Run[]) => median(rs.map((r) => r.cpu + r.registryCpu + r.browserCpu));
  const cores = navigator.hardwareConcurrency;
  console.log(`\npage ÷ push throughput: **${(pushS / pageS).toFixed(2)}×** (target ≥ 0.7); imgx serve peak RSS **${Math.max(...page.map((r) => r.rss)).toFixed(0)} MiB** (target < 200 MB)`);
  console.log(`CPU seconds for the same bytes, page ÷ push: ${(all(page) / all(push)).toFixed(2)}×; on ${cores} cores the page path needs at least ${(all(page) / cores).toFixed(2)} s of wall time (the bound when every core is busy), push ${(all(push) / cores).toFixed(2)} s\n`);
}
