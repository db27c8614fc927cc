// Runs operations under a load model and hands each one the recorder of its phase (warm-up or
// measured). Closed model: N workers, each starting its next operation when the last one ends.
// Open model: operations start on a fixed schedule whatever the registry does; latency counts from
// the intended start (coordinated omission corrected, as wrk2 does), and starts the generator could
// not make on time are counted as late (> LATE_MS behind) or dropped (never started by the end).
import { arrivalsBefore, dueAt, type Schedule } from "./arrivals.ts";
import { Recorder } from "./recorder.ts";

export const LATE_MS = 10;

export interface LoadSpec {
  model: "closed" | "open";
  /** Closed: workers. Open: most operations in flight at once (more wait and count as late). */
  concurrency: number;
  /** Open model: operations per second over all shards. */
  rate?: number;
  rampMs?: number;
  /** Measured time after the warm-up; undefined = until `count` (one of the two is required). */
  durationMs?: number;
  /** Measured operations over all shards. */
  count?: number;
  warmupMs?: number;
  shard?: { index: number; of: number };
  /** Stop once this many operations failed. */
  maxErrors?: number;
}

export interface OpContext {
  /** Arrival or ticket number (over all shards in the open model). */
  index: number;
  /** How late this operation starts against its schedule (0 in the closed model). */
  lateMs: number;
  signal: AbortSignal;
  rec: Recorder;
}

export type Operation = (ctx: OpContext) => Promise<void>;

/** The recorder that requests outside any operation's own bookkeeping (tokens, pings) go to. */
export interface Phase {
  rec: Recorder;
  measuring: boolean;
}

export type StopReason = "duration" | "count" | "interrupted" | "max-errors";

export interface RunResult {
  rec: Recorder;
  /** The warm-up's requests and operations (not part of the results). */
  warm?: Recorder;
  stoppedBy: StopReason;
  /** performance.now() at the end of the last measured operation (or of the run). */
  end: number;
  /** process.cpuUsage() over the measured period, in seconds. */
  cpuSeconds: number;
}

/** How many of `total` operations shard `index` of `of` runs: an equal, interleaved share. */
export function shareOf(total: number, shard?: { index: number; of: number }): number {
  if (!shard) return total;
  return Math.max(0, Math.ceil((total - shard.index) / shard.of));
}

export async function runLoad(spec: LoadSpec, op: Operation, opts: { signal?: AbortSignal; phase?: Phase; onMeasureStart?: (rec: Recorder) => void } = {}): Promise<RunResult> {
  const start = performance.now();
  const warmupMs = spec.warmupMs ?? 0;
  const measureAt = start + warmupMs;
  const warm = new Recorder(start);
  const phase: Phase = opts.phase ?? { rec: warm, measuring: false };
  phase.rec = warmupMs > 0 ? warm : new Recorder(measureAt);
  phase.measuring = warmupMs <= 0;
  let cpu0 = process.cpuUsage();
  const endAt = spec.durationMs === undefined ? Infinity : measureAt + spec.durationMs;

  let stoppedBy: StopReason | undefined;
  let wake: () => void = () => {};
  let wakeP = new Promise<void>((r) => (wake = r));
  const poke = () => {
    wake();
    wakeP = new Promise<void>((r) => (wake = r));
  };
  const inner = new AbortController();
  const stop = (why: StopReason, abortInFlight = false) => {
    stoppedBy ??= why;
    if (abortInFlight) inner.abort(new Error(`bench ${why}`));
    poke();
  };
  const onAbort = () => stop("interrupted", true);
  if (opts.signal?.aborted) stoppedBy = "interrupted";
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const enterMeasured = (at = performance.now()) => {
    if (phase.measuring) return;
    phase.rec = new Recorder(at);
    phase.measuring = true;
    cpu0 = process.cpuUsage();
    opts.onMeasureStart?.(phase.rec);
  };
  if (phase.measuring) opts.onMeasureStart?.(phase.rec);
  // the open model's schedule itself says when measuring starts (the first arrival due after the
  // warm-up): a timer could switch recorders while a warm-up arrival was still waiting to be sent
  const warmTimer = warmupMs > 0 && spec.model === "closed" ? setTimeout(enterMeasured, warmupMs) : undefined;
  const endTimer = Number.isFinite(endAt) ? setTimeout(() => stop("duration"), endAt - start) : undefined;

  let inFlight = 0;
  let lastEnd = 0;
  const running = new Set<Promise<void>>();
  const launch = (index: number, lateMs: number, rec: Recorder) => {
    inFlight++;
    const t = performance.now();
    const p = op({ index, lateMs, signal: inner.signal, rec }).then(
      () => {
        const end = performance.now();
        lastEnd = Math.max(lastEnd, end);
        rec.operation(true, end, end - t, lateMs);
      },
      (e: unknown) => {
        const end = performance.now();
        lastEnd = Math.max(lastEnd, end);
        // our own abort (Ctrl-C) is not the registry's failure
        if (inner.signal.aborted) rec.operations.cancelled++;
        else {
          rec.operation(false, end, end - t, lateMs, (e as Error)?.message ?? String(e));
          if (rec === phase.rec && phase.measuring && spec.maxErrors !== undefined && rec.operations.errors >= spec.maxErrors) stop("max-errors");
        }
      },
    );
    const tracked = p.finally(() => {
      inFlight--;
      running.delete(tracked);
      poke();
    });
    running.add(tracked);
    return tracked;
  };

  if (spec.model === "closed") await closed(spec, phase, launch, () => stoppedBy, stop, enterMeasured, measureAt);
  else await open(spec, phase, launch, () => stoppedBy, stop, () => wakeP, () => inFlight, start, warmupMs, endAt, enterMeasured);
  while (running.size) await Promise.all(running);
  clearTimeout(warmTimer);
  clearTimeout(endTimer);
  opts.signal?.removeEventListener("abort", onAbort);
  enterMeasured();
  const c = process.cpuUsage(cpu0);
  return { rec: phase.rec, warm: warmupMs > 0 ? warm : undefined, stoppedBy: stoppedBy ?? "count", end: Math.max(lastEnd, phase.rec.t0), cpuSeconds: (c.user + c.system) / 1e6 };
}

type Launch = (index: number, lateMs: number, rec: Recorder) => Promise<void>;

async function closed(spec: LoadSpec, phase: Phase, launch: Launch, stopped: () => StopReason | undefined, stop: (w: StopReason) => void, enterMeasured: () => void, measureAt: number): Promise<void> {
  const share = spec.count === undefined ? Infinity : shareOf(spec.count, spec.shard);
  let ticket = 0;
  const worker = async () => {
    for (;;) {
      if (stopped()) return;
      if (!phase.measuring && performance.now() >= measureAt) enterMeasured();
      if (phase.measuring) {
        if (ticket >= share) return stop("count");
        ticket++;
      }
      await launch(ticket, 0, phase.rec);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, spec.concurrency) }, worker));
}

async function open(
  spec: LoadSpec,
  phase: Phase,
  launch: Launch,
  stopped: () => StopReason | undefined,
  stop: (w: StopReason) => void,
  woken: () => Promise<void>,
  inFlight: () => number,
  start: number,
  warmupMs: number,
  endAt: number,
  enterMeasured: (at?: number) => void,
): Promise<void> {
  const sched: Schedule = { rate: spec.rate!, rampMs: spec.rampMs ?? 0 };
  const N = spec.shard?.of ?? 1;
  const I = spec.shard?.index ?? 0;
  // global arrivals before the warm-up ends are warm-up; `count` counts the measured ones after it
  const firstMeasured = arrivalsBefore(sched, warmupMs);
  const lastGlobal = spec.count === undefined ? Infinity : firstMeasured + spec.count;
  // from the spec, not endAt − start: performance.now() values don't subtract back exactly, and an
  // arrival due at the very end (2999.9999… < 3000) would be sent one too many
  const endRel = spec.durationMs === undefined ? Infinity : warmupMs + spec.durationMs;
  let k = 0;
  const max = Math.max(1, spec.concurrency);
  for (;;) {
    const j = k * N + I;
    if (j >= lastGlobal) return stop("count");
    const due = dueAt(sched, j);
    if (due >= endRel) break;
    // the duration ends the schedule, not the sends due before it: those still go out if the
    // generator is less than LATE_MS behind (the 1 ms timer makes it a little late at the end)
    const why = stopped();
    if (why && why !== "duration") break;
    const now = performance.now() - start;
    if (now >= endRel && now - due > LATE_MS) break;
    if (due > now) {
      // never less than 1 ms: Bun.sleep(0.2) returns at once (measured: 110,000 "sleeps" in 100 ms),
      // a spin that starves the I/O the run is made of. Arrivals in that millisecond go out together.
      await Promise.race([Bun.sleep(Math.max(1, Math.min(due - now, endRel - now))), woken()]);
      continue;
    }
    if (inFlight() >= max) {
      await woken();
      continue;
    }
    const measured = due >= warmupMs;
    // the measured period starts when the warm-up was scheduled to end, whenever its first arrival goes
    if (measured) enterMeasured(start + warmupMs);
    const rec = phase.rec;
    const late = now - due;
    if (measured && late > LATE_MS) rec.operations.late++;
    launch(j, late, rec);
    k++;
  }
  // arrivals due (by now, within the measured period) that never started
  const dueTotal = Math.min(arrivalsBefore(sched, Math.min(performance.now() - start, endRel)), lastGlobal);
  const mine = Math.max(0, Math.ceil((dueTotal - I) / N));
  const firstMine = Math.max(0, Math.ceil((firstMeasured - I) / N));
  phase.rec.operations.dropped += Math.max(0, mine - Math.max(k, firstMine));
  stop(stopped() ?? "duration");
}
