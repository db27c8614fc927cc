// The summary document: what `--json`/`--out` write and `bench merge` reads and writes. The
// issue fixes its core shape; the extra keys (raw latency, TTFB histograms, timeline, generator CPU)
// are what an exact merge and an honest report need.
import { ImgxError } from "../core/errors.ts";
import { encodeHistogram, newHistogram, percentiles, type Percentiles } from "./histogram.ts";
import type { RunResult } from "./scheduler.ts";

export interface EndpointSummary {
  count: number;
  errors: number;
  status: Record<string, number>;
  /** Open model: from the intended send time; closed model: as measured (= rawLatencyMs). */
  latencyMs: Percentiles;
  ttfbMs: Percentiles;
  histogram: string;
  rawLatencyMs: Percentiles;
  rawHistogram: string;
  ttfbHistogram: string;
}

export interface BenchSummary {
  scenario: string;
  target: string;
  model: "closed" | "open";
  concurrency: number;
  rate: number | null;
  startedAt: string;
  seconds: number;
  operations: {
    count: number;
    errors: number;
    perSecond: number;
    /** Open model: started more than LATE_MS behind schedule / due but never started. */
    late: number;
    dropped: number;
    /** Interrupted by Ctrl-C before they ended (not counted as errors). */
    cancelled: number;
    latencyMs: Percentiles;
    histogram: string;
    rawLatencyMs: Percentiles;
    rawHistogram: string;
  };
  bytes: { sent: number; received: number };
  endpoints: Record<string, EndpointSummary>;
  /** The generator's own CPU time: near `cores` × seconds means the client, not the registry, was the limit. */
  generator: { processes: number; cores: number; cpuSeconds: number };
  shards: string[];
  stoppedBy: string;
  /** Operations and failed operations ended in each second from startedAt. */
  timeline: { ops: number[]; errors: number[] };
  /** Failure messages and how often each occurred (the first 20 kinds). */
  errorKinds: Record<string, number>;
  /** Requests sent outside the measured period (resolving the target, warm-up), per endpoint. */
  unmeasured?: Record<string, number>;
  /** What --cleanup deleted after a push. */
  cleanup?: { deleted: number; failed: number };
}

export interface RunMeta {
  scenario: string;
  target: string;
  model: "closed" | "open";
  concurrency: number;
  rate?: number;
  shard?: { index: number; of: number };
  cores: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** performance.now() → wall-clock ISO time. */
function wall(perfMs: number): string {
  return new Date(Date.now() - (performance.now() - perfMs)).toISOString();
}

export function buildSummary(run: RunResult, meta: RunMeta): BenchSummary {
  const rec = run.rec;
  const seconds = Math.max(0.001, (run.end - rec.t0) / 1000);
  const endpoints: Record<string, EndpointSummary> = {};
  for (const [name, s] of [...rec.endpoints].sort(([a], [b]) => a.localeCompare(b))) {
    endpoints[name] = {
      count: s.count,
      errors: s.errors,
      status: s.status,
      latencyMs: percentiles(s.latency),
      ttfbMs: percentiles(s.ttfb),
      histogram: encodeHistogram(s.latency),
      rawLatencyMs: percentiles(s.raw),
      rawHistogram: encodeHistogram(s.raw),
      ttfbHistogram: encodeHistogram(s.ttfb),
    };
  }
  const o = rec.operations;
  return {
    scenario: meta.scenario,
    target: meta.target,
    model: meta.model,
    concurrency: meta.concurrency,
    rate: meta.model === "open" ? (meta.rate ?? 0) : null,
    startedAt: wall(rec.t0),
    seconds: r3(seconds),
    operations: {
      count: o.count,
      errors: o.errors,
      perSecond: r3(o.count / seconds),
      late: o.late,
      dropped: o.dropped,
      cancelled: o.cancelled,
      latencyMs: percentiles(rec.opLatency),
      histogram: encodeHistogram(rec.opLatency),
      rawLatencyMs: percentiles(rec.opRaw),
      rawHistogram: encodeHistogram(rec.opRaw),
    },
    bytes: { ...rec.bytes },
    endpoints,
    generator: { processes: 1, cores: meta.cores, cpuSeconds: r3(run.cpuSeconds) },
    shards: meta.shard ? [`${meta.shard.index}/${meta.shard.of}`] : [],
    stoppedBy: run.stoppedBy,
    timeline: { ops: rec.timeline.map((t) => t.ops), errors: rec.timeline.map((t) => t.errors) },
    errorKinds: Object.fromEntries(rec.errorKinds),
  };
}

/** Checks a parsed document has the summary's shape; `what` names it (file name) in the error. */
export function checkSummary(v: unknown, what: string): BenchSummary {
  const bad = (why: string) => new ImgxError("BAD_ARCHIVE", `Cannot read ${what}: ${why}`, { hint: "pass files written by imgx bench --out or --json" });
  if (!v || typeof v !== "object") throw bad("not a JSON object");
  const s = v as Partial<BenchSummary>;
  if (typeof s.scenario !== "string" || typeof s.target !== "string") throw bad('missing "scenario" or "target"');
  if (s.model !== "closed" && s.model !== "open") throw bad('"model" must be "closed" or "open"');
  if (typeof s.startedAt !== "string" || Number.isNaN(Date.parse(s.startedAt))) throw bad('"startedAt" is not a time');
  if (typeof s.seconds !== "number" || !s.operations || typeof s.operations.count !== "number") throw bad('missing "seconds" or "operations"');
  if (!s.endpoints || typeof s.endpoints !== "object") throw bad('missing "endpoints"');
  for (const [name, e] of Object.entries(s.endpoints)) {
    if (typeof e?.count !== "number" || typeof e.histogram !== "string") throw bad(`endpoint ${JSON.stringify(name)} lacks "count" or "histogram"`);
  }
  return s as BenchSummary;
}

export function emptyPercentiles(): Percentiles {
  return percentiles(newHistogram());
}
