// `bench merge`: many shards' summaries → one. Counts, statuses, bytes and CPU add; histograms add
// bucket by bucket, so the merged percentiles are those of all requests together (never an
// average of percentiles); the timeline is aligned on each shard's wall-clock start.
import { ImgxError } from "../core/errors.ts";
import { addHistogram, decodeHistogram, encodeHistogram, newHistogram, percentiles, type Histogram } from "./histogram.ts";
import type { BenchSummary, EndpointSummary } from "./summary.ts";

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const joined = (xs: string[]) => [...new Set(xs)].join(", ");

function sumHist(parts: (string | undefined)[], what: string): Histogram {
  const h = newHistogram();
  for (const p of parts) if (p) addHistogram(h, decodeHistogram(p, what));
  return h;
}

function addCounts(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v;
}

export function mergeSummaries(list: { name: string; summary: BenchSummary }[]): BenchSummary {
  if (list.length === 0) throw new ImgxError("USAGE", "Cannot merge: no result files given");
  const all = list.map((x) => x.summary);
  const models = new Set(all.map((s) => s.model));
  if (models.size > 1) throw new ImgxError("USAGE", `Cannot merge closed-model and open-model results (${list.map((x) => `${x.name}: ${x.summary.model}`).join(", ")})`);
  const starts = all.map((s) => Date.parse(s.startedAt));
  const t0 = Math.min(...starts);
  const tEnd = Math.max(...all.map((s, i) => starts[i]! + s.seconds * 1000));
  const seconds = Math.max(0.001, (tEnd - t0) / 1000);

  const endpoints: Record<string, EndpointSummary> = {};
  const names = [...new Set(all.flatMap((s) => Object.keys(s.endpoints)))].sort();
  for (const name of names) {
    const parts = list.flatMap((x) => (x.summary.endpoints[name] ? [{ file: x.name, e: x.summary.endpoints[name]! }] : []));
    const status: Record<string, number> = {};
    for (const p of parts) addCounts(status, p.e.status);
    const what = `endpoint ${JSON.stringify(name)} of ${joined(parts.map((p) => p.file))}`;
    const lat = sumHist(parts.map((p) => p.e.histogram), what);
    const raw = sumHist(parts.map((p) => p.e.rawHistogram ?? p.e.histogram), what);
    const ttfb = sumHist(parts.map((p) => p.e.ttfbHistogram), what);
    endpoints[name] = {
      count: parts.reduce((a, p) => a + p.e.count, 0),
      errors: parts.reduce((a, p) => a + (p.e.errors ?? 0), 0),
      status,
      latencyMs: percentiles(lat),
      ttfbMs: percentiles(ttfb),
      histogram: encodeHistogram(lat),
      rawLatencyMs: percentiles(raw),
      rawHistogram: encodeHistogram(raw),
      ttfbHistogram: encodeHistogram(ttfb),
    };
  }

  const ops = all.map((s) => s.operations);
  const opLat = sumHist(ops.map((o) => o.histogram), "operations");
  const opRaw = sumHist(ops.map((o) => o.rawHistogram ?? o.histogram), "operations");
  const count = ops.reduce((a, o) => a + o.count, 0);
  const sum = (f: (s: BenchSummary) => number | undefined) => all.reduce((a, s) => a + (f(s) ?? 0), 0);

  const timeline = { ops: [] as number[], errors: [] as number[] };
  all.forEach((s, i) => {
    const off = Math.floor((starts[i]! - t0) / 1000);
    (s.timeline?.ops ?? []).forEach((n, k) => (timeline.ops[off + k] = (timeline.ops[off + k] ?? 0) + n));
    (s.timeline?.errors ?? []).forEach((n, k) => (timeline.errors[off + k] = (timeline.errors[off + k] ?? 0) + n));
  });
  for (let k = 0; k < timeline.ops.length; k++) {
    timeline.ops[k] ??= 0;
    timeline.errors[k] ??= 0;
  }
  const errorKinds: Record<string, number> = {};
  for (const s of all) addCounts(errorKinds, s.errorKinds);
  const unmeasured: Record<string, number> = {};
  for (const s of all) addCounts(unmeasured, s.unmeasured);

  return {
    scenario: joined(all.map((s) => s.scenario)),
    target: joined(all.map((s) => s.target)),
    model: all[0]!.model,
    concurrency: sum((s) => s.concurrency),
    // each shard reports its own share of the rate
    rate: all[0]!.model === "open" ? r3(sum((s) => s.rate ?? 0)) : null,
    startedAt: new Date(t0).toISOString(),
    seconds: r3(seconds),
    operations: {
      count,
      errors: sum((s) => s.operations.errors),
      perSecond: r3(count / seconds),
      late: sum((s) => s.operations.late),
      dropped: sum((s) => s.operations.dropped),
      cancelled: sum((s) => s.operations.cancelled),
      latencyMs: percentiles(opLat),
      histogram: encodeHistogram(opLat),
      rawLatencyMs: percentiles(opRaw),
      rawHistogram: encodeHistogram(opRaw),
    },
    bytes: { sent: sum((s) => s.bytes?.sent), received: sum((s) => s.bytes?.received) },
    endpoints,
    generator: { processes: sum((s) => s.generator?.processes ?? 1), cores: sum((s) => s.generator?.cores), cpuSeconds: r3(sum((s) => s.generator?.cpuSeconds)) },
    shards: all.flatMap((s) => s.shards ?? []),
    stoppedBy: joined(all.map((s) => s.stoppedBy ?? "")),
    timeline,
    errorKinds,
    unmeasured,
  };
}
