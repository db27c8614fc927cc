// Parsing of bench's load flags into a LoadSpec (durations, shard, start time, sizes).
import { ImgxError, q } from "../../core/errors.ts";
import type { LoadSpec } from "../../bench/scheduler.ts";
import { intFlag, oneString, sizeFlag } from "../options.ts";

/** "30s", "5m", "1.5s", "250ms", "1h"; a bare number means seconds. */
export function durationMs(v: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new ImgxError("USAGE", `Cannot use --${flag} ${q(v)}: expected a duration like 30s, 5m or 250ms`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
}

/** "I/N" with 0 ≤ I < N (0-based, like a Kubernetes JOB_COMPLETION_INDEX). */
export function parseShard(v: string): { index: number; of: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = Number(m?.[1]);
  const of = Number(m?.[2]);
  if (!m || of < 1 || index >= of) throw new ImgxError("USAGE", `Cannot use --shard ${q(v)}: expected I/N with 0 <= I < N, e.g. 0/4 (I is 0-based, like JOB_COMPLETION_INDEX)`);
  return { index, of };
}

/** An ISO 8601 time ("2026-12-02T12:00:00Z") or Unix seconds; returns epoch ms. */
export function parseStartAt(v: string): number {
  const t = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(t)) throw new ImgxError("USAGE", `Cannot use --start-at ${q(v)}: expected an ISO 8601 time like 2026-12-02T12:00:00Z or Unix seconds`);
  return t;
}

function positive(argv: string[], name: string): number | undefined {
  const v = oneString(argv, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ImgxError("USAGE", `Cannot use --${name} ${q(v)}: expected a positive number`);
  return n;
}

export function loadSpec(argv: string[]): LoadSpec {
  const rate = positive(argv, "rate");
  const conc = intFlag(argv, "concurrency", "c");
  if (conc === 0) throw new ImgxError("USAGE", "Cannot use --concurrency 0: at least one worker is needed");
  const count = intFlag(argv, "count");
  if (count === 0) throw new ImgxError("USAGE", "Cannot use --count 0: expected at least 1");
  const dur = oneString(argv, "duration");
  const ramp = oneString(argv, "ramp");
  if (ramp !== undefined && rate === undefined) throw new ImgxError("USAGE", "Cannot use --ramp without --rate (the closed model has no arrival rate to ramp)");
  const shardV = oneString(argv, "shard");
  const maxErrors = intFlag(argv, "max-errors");
  return {
    model: rate === undefined ? "closed" : "open",
    // open model: the most operations in flight. 64 = the idle connections Bun keeps: above it a
    // burst of arrivals opens connections that are closed again after (measured: -c 256 against
    // nginx ran at 9,000 req/s where -c 64 ran at 22,000)
    concurrency: conc ?? (rate === undefined ? 16 : 64),
    rate,
    rampMs: ramp === undefined ? 0 : durationMs(ramp, "ramp"),
    // a run is always bounded: 30 s unless --duration or --count says otherwise
    durationMs: dur !== undefined ? durationMs(dur, "duration") : count !== undefined ? undefined : 30_000,
    count,
    warmupMs: durationMs(oneString(argv, "warmup") ?? "0", "warmup"),
    shard: shardV === undefined ? undefined : parseShard(shardV),
    maxErrors: maxErrors === 0 ? undefined : maxErrors,
  };
}

export function pushSpec(argv: string[]): { layers: number; layerSize: number; mode: "monolithic" | "chunked" | "streamed"; chunkSize: number } {
  const mode = oneString(argv, "upload-mode") ?? "monolithic";
  if (mode !== "monolithic" && mode !== "chunked" && mode !== "streamed") throw new ImgxError("USAGE", `Cannot use --upload-mode ${q(mode)}: expected monolithic, chunked or streamed`);
  const layers = intFlag(argv, "layers") ?? 2;
  if (layers < 1) throw new ImgxError("USAGE", "Cannot use --layers 0: an image needs at least one layer");
  const chunkSize = sizeFlag(argv, "chunk-size") ?? 256 * 1024;
  if (chunkSize < 1) throw new ImgxError("USAGE", "Cannot use --chunk-size 0");
  return { layers, layerSize: sizeFlag(argv, "layer-size") ?? 1024 * 1024, mode, chunkSize };
}
