// Latency histograms: HdrHistogram (hdr-histogram-js) in integer microseconds, 3 significant
// digits, auto-resizing. They add exactly, so results from many machines merge without the
// "average of percentiles" error, and they travel in the summary JSON as compressed base64.
import * as hdr from "hdr-histogram-js";
import { ImgxError } from "../core/errors.ts";

export type Histogram = hdr.Histogram;

export interface Percentiles {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function newHistogram(): Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records a latency given in milliseconds (stored as whole microseconds, at least 1). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(ms >= 0.001 ? Math.round(ms * 1000) : 1);
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string, what: string): Histogram {
  try {
    const h = hdr.decodeFromCompressedBase64(s);
    // decoding gives a histogram sized to its content; merging more into it must still fit
    h.autoResize = true;
    return h;
  } catch (e) {
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${what}: the histogram is not base64 HdrHistogram data (${(e as Error).message})`);
  }
}

/** Adds `from` into `into` (exact: counts per bucket add). */
export function addHistogram(into: Histogram, from: Histogram): void {
  into.add(from);
}

const r3 = (us: number) => Math.round(us) / 1000;

/** Mean, p50…p99.9 and max in milliseconds (0 for an empty histogram). */
export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  // values are reported as their bucket's upper end (within 0.1%), max too, so that a histogram
  // read back from base64 (which keeps buckets, not values) reports the same numbers
  const max = h.getValueAtPercentile(100);
  const at = (p: number) => r3(h.getValueAtPercentile(p));
  return { mean: r3(h.mean), p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: r3(max) };
}

/** The latency at each percentile, in ms: what a percentile-curve plot draws. */
export function percentileCurve(h: Histogram, points: number[]): number[] {
  return points.map((p) => (h.totalCount ? r3(h.getValueAtPercentile(p)) : 0));
}
