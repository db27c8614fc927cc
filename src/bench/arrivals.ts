// The open model's schedule: operation j (0-based, over all shards) is due at T(j) milliseconds
// after the start, for a constant arrival rate R per second reached by a linear ramp over `rampMs`.
// Shard I of N takes arrivals I, I+N, I+2N, …: together the shards send exactly the global
// schedule, each an equal, interleaved share.

export interface Schedule {
  /** Operations per second, all shards together. */
  rate: number;
  rampMs: number;
}

/** Arrivals due strictly before `ms` (A(t) rounded up): how many of 0, 1, 2, … have T(j) < ms. */
export function arrivalsBefore(s: Schedule, ms: number): number {
  if (ms <= 0) return 0;
  const perMs = s.rate / 1000;
  // A(t) = perMs·t²/(2·ramp) during the ramp, perMs·(t − ramp/2) after it
  const a = ms < s.rampMs ? (perMs * ms * ms) / (2 * s.rampMs) : perMs * (ms - s.rampMs / 2);
  return Math.ceil(a - 1e-9);
}

/** T(j): when arrival j is due, in ms from the start. */
export function dueAt(s: Schedule, j: number): number {
  const perMs = s.rate / 1000;
  if (s.rampMs > 0 && j < (perMs * s.rampMs) / 2) return Math.sqrt((2 * j * s.rampMs) / perMs);
  return j / perMs + s.rampMs / 2;
}
