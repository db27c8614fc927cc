// The human report: one header block and one row per endpoint, latencies in ms.
import type { BenchSummary } from "./summary.ts";

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function bytes(b: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) {
    b /= 1024;
    i++;
  }
  return `${b.toFixed(i ? 1 : 0)} ${u[i]}`;
}

function grid(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  // first column left-aligned (names), the rest right-aligned (numbers)
  return rows.map((r) => r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join("  ").trimEnd()).join("\n");
}

export function renderTable(s: BenchSummary): string {
  const o = s.operations;
  const load = s.model === "open" ? `open model, ${n0(s.rate ?? 0)} ops/s, up to ${n0(s.concurrency)} in flight` : `closed model, ${n0(s.concurrency)} workers`;
  const cpu = s.generator.cpuSeconds / Math.max(0.001, s.seconds);
  const lines = [
    `imgx bench ${s.scenario} ${s.target}: ${load}, ${s.seconds.toFixed(1)} s${s.shards.length ? `, shard ${s.shards.join(" + ")}` : ""} (stopped by ${s.stoppedBy})`,
    `operations ${n0(o.count)} (${o.perSecond.toFixed(1)}/s), errors ${n0(o.errors)}` +
      (s.model === "open" ? `, late ${n0(o.late)}, dropped ${n0(o.dropped)}` : "") +
      (o.cancelled ? `, cancelled ${n0(o.cancelled)}` : "") +
      `; latency p50 ${ms(o.latencyMs.p50)} ms, p99 ${ms(o.latencyMs.p99)} ms${s.model === "open" ? " (from intended start)" : ""}`,
    `bytes sent ${bytes(s.bytes.sent)}, received ${bytes(s.bytes.received)}; generator CPU ${(cpu * 100).toFixed(0)}% of one core (${s.generator.cores} cores in ${s.generator.processes} process${s.generator.processes === 1 ? "" : "es"})`,
    "",
  ];
  const rows = [["endpoint", "count", "errors", "mean", "p50", "p90", "p99", "p99.9", "max ms", "status"]];
  for (const [name, e] of Object.entries(s.endpoints)) {
    const l = e.latencyMs;
    const status = Object.entries(e.status).map(([k, v]) => `${k === "0" ? "no-response" : k}×${v}`).join(" ");
    rows.push([name, n0(e.count), n0(e.errors), ms(l.mean), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max), status]);
  }
  lines.push(grid(rows));
  const kinds = Object.entries(s.errorKinds ?? {});
  if (kinds.length) {
    lines.push("", "errors:");
    for (const [m, c] of kinds.sort((a, b) => b[1] - a[1])) lines.push(`  ${n0(c)} × ${m}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The live line shown once a second on a terminal. */
export function progressLine(elapsedS: number, phase: string, i: { ops: number; errors: number; p99: number; intervalS: number }, totalErrors: number, inFlight?: number): string {
  return `${phase} ${elapsedS.toFixed(0).padStart(4)}s  ${n0(i.ops / i.intervalS).padStart(7)} ops/s  errors ${n0(totalErrors)}  p99 ${ms(i.p99)} ms${inFlight === undefined ? "" : `  in flight ${inFlight}`}`;
}
