// Runs a command several times and reports median wall time and median peak RSS of the child.
export interface Measurement {
  label: string;
  seconds: number;
  rssMiB: number;
  runs: number[];
}

export async function measure(label: string, cmdOrFn: string[] | (() => string[]), opts: { runs: number; before?: () => Promise<void>; env?: Record<string, string> }): Promise<Measurement> {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await opts.before?.();
    // flush dirty pages so every run starts with the same writeback state (this disk is the bottleneck)
    Bun.spawnSync(["sync"]);
    const cmd = typeof cmdOrFn === "function" ? cmdOrFn() : cmdOrFn;
    const t0 = performance.now();
    const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe", env: { ...process.env, ...opts.env } });
    const code = await p.exited;
    const secs = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`${label}: ${cmd.join(" ")} exited ${code}: ${(await new Response(p.stderr).text()).slice(-500)}`);
    times.push(secs);
    rss.push((p.resourceUsage()?.maxRSS ?? 0) / 1024 / 1024);
  }
  return { label, seconds: median(times), rssMiB: median(rss), runs: times };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function row(cols: (string | number)[]): string {
  return `| ${cols.map((c) => (typeof c === "number" ? c.toFixed(2) : c)).join(" | ")} |`;
}
