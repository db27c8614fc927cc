// A self-contained HTML report (no script, no CDN): latency percentile curves per endpoint in the
// HdrHistogram style (x: percentile on a 1/(1−p) log scale, so the tail gets room) and ops/s over
// time, both as inline SVG, plus the endpoint table.
import { decodeHistogram, percentileCurve } from "./histogram.ts";
import type { BenchSummary } from "./summary.ts";

const W = 760;
const H = 300;
const PAD = { l: 60, r: 16, t: 16, b: 40 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#393b79"];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Percentiles 0 … 99.999 spaced evenly on the 1/(1−p) log axis. */
function points(): { p: number; x: number }[] {
  const out = [];
  for (let x = 0; x <= 5.0001; x += 0.05) out.push({ p: 100 * (1 - 10 ** -x), x });
  return out;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * e).find((m) => m >= v)!;
}

function axes(xLabels: { x: number; label: string }[], yMax: number, yUnit: string): string {
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  let s = `<rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="#fff" stroke="#999"/>`;
  for (let i = 0; i <= 5; i++) {
    const y = PAD.t + ih - (ih * i) / 5;
    s += `<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end">${yMax >= 10 ? Math.round((yMax * i) / 5) : fmt((yMax * i) / 5)}</text>`;
  }
  xLabels.forEach((l, i) => {
    // the last label would run past the plot's right edge when centred
    const anchor = i === xLabels.length - 1 && l.x > PAD.l + iw - 30 ? "end" : "middle";
    s += `<line x1="${l.x}" x2="${l.x}" y1="${PAD.t}" y2="${PAD.t + ih}" stroke="#eee"/><text x="${l.x}" y="${PAD.t + ih + 16}" text-anchor="${anchor}">${esc(l.label)}</text>`;
  });
  s += `<text x="14" y="${PAD.t + ih / 2}" transform="rotate(-90 14 ${PAD.t + ih / 2})" text-anchor="middle">${esc(yUnit)}</text>`;
  return s;
}

function percentileSvg(s: BenchSummary): string {
  const pts = points();
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const curves = Object.entries(s.endpoints).map(([name, e]) => ({ name, ys: percentileCurve(decodeHistogram(e.histogram, name), pts.map((p) => p.p)) }));
  const yMax = niceMax(Math.max(0, ...curves.flatMap((c) => c.ys)));
  const X = (x: number) => PAD.l + (iw * x) / 5;
  const Y = (v: number) => PAD.t + ih - (ih * v) / yMax;
  const labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].map((label, i) => ({ x: X(i), label }));
  let body = axes(labels, yMax, "latency ms");
  curves.forEach((c, i) => {
    const d = c.ys.map((y, k) => `${k ? "L" : "M"}${X(pts[k]!.x).toFixed(1)},${Y(y).toFixed(1)}`).join("");
    body += `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + 10}" width="${W}" role="img" aria-label="latency by percentile">${body}<text x="${PAD.l + iw / 2}" y="${H + 6}" text-anchor="middle">percentile</text></svg>${legend(curves.map((c) => c.name))}`;
}

function timelineSvg(s: BenchSummary): string {
  const ops = [...(s.timeline?.ops ?? [])];
  const errs = [...(s.timeline?.errors ?? [])];
  // the last second is usually cut short by the end of the run: draw it as a rate, or drop a sliver
  const lastPart = s.seconds - (ops.length - 1);
  if (ops.length > 1 && lastPart > 0 && lastPart < 1) {
    if (lastPart < 0.5) [ops.length, errs.length] = [ops.length - 1, Math.min(errs.length, ops.length - 1)];
    else [ops[ops.length - 1], errs[errs.length - 1]] = [ops[ops.length - 1]! / lastPart, (errs[errs.length - 1] ?? 0) / lastPart];
  }
  const n = Math.max(1, ops.length);
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const yMax = niceMax(Math.max(0, ...ops));
  const X = (i: number) => PAD.l + (iw * (i + 0.5)) / n;
  const Y = (v: number) => PAD.t + ih - (ih * v) / yMax;
  const step = Math.max(1, Math.ceil(n / 10));
  const labels = [];
  for (let i = 0; i < n; i += step) labels.push({ x: X(i), label: `${i}s` });
  let body = axes(labels, yMax, "operations / s");
  // a line, plus dots while they fit: a run of one second is one point and must still show
  const line = (vals: number[], color: string) =>
    `<path d="${vals.map((v, i) => `${i ? "L" : "M"}${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join("")}" fill="none" stroke="${color}" stroke-width="2"/>` +
    (n <= 120 ? vals.map((v, i) => `<circle cx="${X(i).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="3" fill="${color}"/>`).join("") : "");
  if (ops.length) body += line(ops, COLORS[0]!);
  if (errs.some((e) => e > 0)) body += line(errs, COLORS[1]!);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" role="img" aria-label="operations per second">${body}</svg>${legend(["operations", ...(errs.some((e) => e > 0) ? ["failed operations"] : [])])}`;
}

function legend(names: string[]): string {
  return `<p class="legend">${names.map((n, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${esc(n)}</span>`).join(" ")}</p>`;
}

function table(s: BenchSummary): string {
  const head = ["endpoint", "count", "errors", "mean", "p50", "p90", "p99", "p99.9", "max", "status"].map((h) => `<th>${h}</th>`).join("");
  const rows = Object.entries(s.endpoints)
    .map(([name, e]) => {
      const l = e.latencyMs;
      const status = Object.entries(e.status).map(([k, v]) => `${k}×${v}`).join(" ");
      return `<tr><td>${esc(name)}</td><td>${e.count}</td><td>${e.errors}</td>${[l.mean, l.p50, l.p90, l.p99, l.p999, l.max].map((x) => `<td>${fmt(x)}</td>`).join("")}<td>${esc(status)}</td></tr>`;
    })
    .join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderHtml(s: BenchSummary): string {
  const o = s.operations;
  const load = s.model === "open" ? `open model, ${s.rate} ops/s, up to ${s.concurrency} in flight` : `closed model, ${s.concurrency} workers`;
  const cpu = ((100 * s.generator.cpuSeconds) / Math.max(0.001, s.seconds)).toFixed(0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imgx bench ${esc(s.scenario)} ${esc(s.target)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:${W + 40}px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 6px}
svg text{font:11px system-ui,sans-serif;fill:#444}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
.legend span{margin-right:14px}.legend i{display:inline-block;width:12px;height:3px;margin:0 5px 3px 0;vertical-align:middle}
.meta{color:#555}
</style></head><body>
<h1>imgx bench ${esc(s.scenario)} <code>${esc(s.target)}</code></h1>
<p class="meta">${esc(load)}; started ${esc(s.startedAt)}, ${s.seconds.toFixed(1)} s${s.shards.length ? `; shards ${esc(s.shards.join(", "))}` : ""}<br>
${o.count} operations (${o.perSecond.toFixed(1)}/s), ${o.errors} failed${s.model === "open" ? `, ${o.late} late, ${o.dropped} dropped` : ""}; generator CPU ${cpu}% of one core (${s.generator.cores} cores, ${s.generator.processes} process${s.generator.processes === 1 ? "" : "es"})</p>
<h2>Latency by percentile${s.model === "open" ? " (from the intended send time)" : ""}</h2>
${percentileSvg(s)}
<h2>Operations per second</h2>
${timelineSvg(s)}
<h2>Endpoints (ms)</h2>
${table(s)}
</body></html>
`;
}
