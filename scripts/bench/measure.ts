import { existsSync } from "node:fs";
// Runs a command several times and reports median wall time and median peak RSS of the child.
export interface Measurement {
  label: string;
  seconds: number;
  rssMiB: number;
  /** Median CPU seconds (user + system) of the child; NaN without GNU time. Steadier than wall time on a shared machine. */
  cpuSeconds: number;
  runs: number[];
}

type Cmd = string[] | (() => string[]);
interface RunOpts {
  runs: number;
  before?: () => Promise<void>;
  /** Runs after each run, untimed (e.g. to read the size of what the tool wrote). */
  after?: (label: string) => Promise<void>;
  env?: Record<string, string>;
}

/**
 * This VM hands freed guest memory back to its host (virtio-balloon free page reporting); the first
 * write into such memory runs at ~0.4 GB/s instead of several GB/s, so a run that writes 1 GiB
 * right after another tool freed its memory measured up to 4× slower (imgx convert 1.7 s instead
 * of 0.43 s). Touching 2 GiB just before every timed run, whichever tool, starts each from backed
 * memory, as on a physical machine.
 */
function warmMemory(): void {
  Bun.spawnSync([process.execPath, "-e", "new Uint8Array(2 ** 31).fill(1)"]);
}

/**
 * Peak RSS comes from GNU time (`%M`, KiB): Bun's `resourceUsage().maxRSS` of a child counts the
 * bench process's own RSS from before the exec (a tool using 60 MiB was reported at 445 MiB when
 * the bench held 445 MiB), so without `time` the RSS column is only an upper bound.
 */
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
if (!TIME) process.stderr.write("note: /usr/bin/time missing (apt-get install time): peak RSS includes the bench process\n");

async function once(label: string, cmdOrFn: Cmd, opts: RunOpts): Promise<{ secs: number; rss: number; cpu: number }> {
  await opts.before?.();
  // flush dirty pages so every run starts with the same writeback state
  Bun.spawnSync(["sync"]);
  if (!process.env.BENCH_COLD) warmMemory();
  const cmd = typeof cmdOrFn === "function" ? cmdOrFn() : cmdOrFn;
  const t0 = performance.now();
  const p = Bun.spawn(TIME ? [TIME, "-f", "%M %U %S", ...cmd] : cmd, { stdout: "ignore", stderr: "pipe", env: { ...process.env, ...opts.env } });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  const secs = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${label}: ${cmd.join(" ")} exited ${code}: ${err.slice(-500)}`);
  const [kib, user, sys] = TIME ? err.trim().split("\n").pop()!.split(" ").map(Number) : [NaN, NaN, NaN];
  const rss = TIME ? kib! / 1024 : (p.resourceUsage()?.maxRSS ?? 0) / 2 ** 20;
  await opts.after?.(label);
  return { secs, rss, cpu: user! + sys! };
}

function summary(label: string, rs: { secs: number; rss: number; cpu: number }[]): Measurement {
  const times = rs.map((r) => r.secs);
  return { label, seconds: median(times), rssMiB: median(rs.map((r) => r.rss)), cpuSeconds: median(rs.map((r) => r.cpu)), runs: times };
}

export async function measure(label: string, cmd: Cmd, opts: RunOpts): Promise<Measurement> {
  const rs = [];
  for (let i = 0; i < opts.runs; i++) rs.push(await once(label, cmd, opts));
  return summary(label, rs);
}

/**
 * Two tools on the same job, fairly: one untimed warm-up run each (page cache, the previous
 * section's deleted output still being discarded), then timed runs alternating A B B A A B …
 * so a drift of the machine during the measurement falls on both alike.
 */
export async function measurePair(a: { label: string; cmd: Cmd }, b: { label: string; cmd: Cmd }, opts: RunOpts): Promise<[Measurement, Measurement]> {
  await once(a.label, a.cmd, opts);
  await once(b.label, b.cmd, opts);
  const ra = [];
  const rb = [];
  for (let i = 0; i < opts.runs; i++) {
    if (i % 2 === 0) {
      ra.push(await once(a.label, a.cmd, opts));
      rb.push(await once(b.label, b.cmd, opts));
    } else {
      rb.push(await once(b.label, b.cmd, opts));
      ra.push(await once(a.label, a.cmd, opts));
    }
  }
  return [summary(a.label, ra), summary(b.label, rb)];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function row(cols: (string | number)[]): string {
  return `| ${cols.map((c) => (typeof c === "number" ? c.toFixed(2) : c)).join(" | ")} |`;
}
