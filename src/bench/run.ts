// One benchmark run end to end: resolve the target, run the load, clean up, summarise. The CLI
// passes an AbortSignal (Ctrl-C) and renders; nothing here touches the process.
import { ImgxError } from "../core/errors.ts";
import type { Platform } from "../core/platform.ts";
import type { DockerReference } from "../core/reference.ts";
import type { RegistryOptions } from "../transports/registry/options.ts";
import { PushBodies } from "./body.ts";
import { percentiles } from "./histogram.ts";
import { BenchHttp, type OpState } from "./http.ts";
import { cleanupPushed, pushOp, type Pushed, type UploadMode } from "./push.ts";
import { Recorder } from "./recorder.ts";
import { headOp, manifestOp, mixedOp, parseMix, pullOp, type OpFn } from "./scenarios.ts";
import { runLoad, type LoadSpec, type Phase } from "./scheduler.ts";
import { buildSummary, type BenchSummary } from "./summary.ts";
import { resolveTarget, type ReadTarget } from "./target.ts";

export type ScenarioName = "pull" | "push" | "head" | "manifest" | "mixed";

export interface BenchOptions {
  scenario: ScenarioName;
  ref: DockerReference;
  /** As the user wrote it, for the report. */
  target: string;
  load: LoadSpec;
  platform: Platform;
  push: { layers: number; layerSize: number; mode: UploadMode; chunkSize: number };
  mix?: string;
  cleanup: boolean;
  seed: number;
  registry: RegistryOptions;
  cores: number;
}

export interface Progress {
  elapsedS: number;
  measuring: boolean;
  ops: number;
  errors: number;
  totalErrors: number;
  p99: number;
  intervalS: number;
  rec: Recorder;
}

export interface BenchContext {
  signal?: AbortSignal;
  /** Called once a second while the load runs. */
  onProgress?: (p: Progress) => void;
  /** The live recorder (for a metrics endpoint). */
  onRecorder?: (rec: Recorder) => void;
}

export async function runBench(o: BenchOptions, ctx: BenchContext = {}): Promise<BenchSummary> {
  const setup = new Recorder(performance.now());
  const phase: Phase = { rec: setup, measuring: false };
  // bench never retries unless asked; the pool and connection budget match the load
  const http = new BenchHttp(o.ref.registry, { ...o.registry, retries: o.registry.retries ?? 0, maxConnections: o.registry.maxConnections ?? o.load.concurrency }, phase);
  const setupOp: OpState = { rec: setup, late: 0, signal: ctx.signal };
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}${o.load.shard ? `s${o.load.shard.index}` : ""}`;

  const needsRead = o.scenario !== "push" && !(o.scenario === "mixed" && o.mix && parseMix(o.mix).every((m) => m.name === "push"));
  let target: ReadTarget | undefined;
  // setup is not measured: a transient failure there (a 503 from a loaded registry) is retried
  for (let attempt = 1; needsRead && !target; attempt++) {
    try {
      target = await resolveTarget(http, setupOp, o.ref, o.platform);
    } catch (e) {
      if (attempt >= 5 || ctx.signal?.aborted || !/HTTP (5\d\d|429)|Cannot connect/.test((e as Error).message)) throw e;
      await Bun.sleep(200 * attempt);
    }
  }
  const pushed: Pushed = { manifests: [], blobs: [] };
  const makePush = () => pushOp(http, new PushBodies(o.push.layerSize, o.seed), { repo: o.ref.repository, layers: o.push.layers, mode: o.push.mode, chunkSize: o.push.chunkSize, runId }, pushed);
  let fn: OpFn;
  if (o.scenario === "pull") fn = pullOp(http, target!);
  else if (o.scenario === "head") fn = headOp(http, target!);
  else if (o.scenario === "manifest") fn = manifestOp(http, target!);
  else if (o.scenario === "push") fn = makePush();
  else {
    if (!o.mix) throw new ImgxError("USAGE", "Cannot run bench mixed without --mix (e.g. --mix pull=70,push=20,head=10)");
    const mix = parseMix(o.mix);
    const ops: Record<string, OpFn> = {};
    for (const m of mix) ops[m.name] = m.name === "push" ? makePush() : m.name === "pull" ? pullOp(http, target!) : m.name === "head" ? headOp(http, target!) : manifestOp(http, target!);
    fn = mixedOp(mix, ops, o.seed ^ (o.load.shard?.index ?? 0));
  }

  let ticker: ReturnType<typeof setInterval> | undefined;
  const t0 = performance.now();
  if (ctx.onProgress) {
    let last = performance.now();
    ticker = setInterval(() => {
      const now = performance.now();
      const i = phase.rec.takeInterval();
      ctx.onProgress!({ elapsedS: (now - t0) / 1000, measuring: phase.measuring, ops: i.ops, errors: i.errors, totalErrors: phase.rec.operations.errors, p99: percentiles(i.hist).p99, intervalS: (now - last) / 1000, rec: phase.rec });
      last = now;
    }, 1000);
  }
  let result;
  try {
    result = await runLoad(
      o.load,
      (c) => fn({ rec: c.rec, late: c.lateMs, signal: c.signal }, c.index),
      {
        signal: ctx.signal,
        phase,
        onMeasureStart: (rec) => ctx.onRecorder?.(rec),
      },
    );
  } finally {
    clearInterval(ticker);
  }
  const rec = result.rec;
  let cleanup: BenchSummary["cleanup"];
  if (o.cleanup && pushed.manifests.length) {
    // after Ctrl-C too: what was pushed should not stay behind
    const r = await cleanupPushed(http, { rec, late: 0 }, o.ref.repository, pushed);
    cleanup = { ...r };
  }
  const summary = buildSummary(result, { scenario: o.scenario === "mixed" ? `mixed ${o.mix}` : o.scenario, target: o.target, model: o.load.model, concurrency: o.load.concurrency, rate: o.load.rate && o.load.shard ? o.load.rate / o.load.shard.of : o.load.rate, shard: o.load.shard, cores: o.cores });
  summary.unmeasured = unmeasured([setup, ...(result.warm ? [result.warm] : [])]);
  if (cleanup) summary.cleanup = cleanup;
  return summary;
}

function unmeasured(recs: Recorder[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of recs) for (const [k, s] of r.endpoints) out[k] = (out[k] ?? 0) + s.count;
  return out;
}
