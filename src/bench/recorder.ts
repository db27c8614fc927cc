// Everything one run counts: per endpoint (requests, statuses, latency, time to first byte), per
// operation, bytes, and ops/errors per second for the timeline. Counting is O(1) per request;
// nothing here allocates per request except the first sight of an endpoint or status.
import type { RequestObservation } from "../transports/registry/observe.ts";
import { newHistogram, recordMs, type Histogram } from "./histogram.ts";

/** One HTTP request as the registry client's observer reports it (endpoint names as strings, so merged files read back). */
export type Observation = Omit<RequestObservation, "method" | "endpoint"> & { endpoint: string };

export class EndpointStats {
  count = 0;
  errors = 0;
  readonly status: Record<string, number> = {};
  /** From the intended send time in the open model (coordinated omission corrected); = raw in the closed model. */
  readonly latency: Histogram = newHistogram();
  readonly raw: Histogram = newHistogram();
  readonly ttfb: Histogram = newHistogram();
}

/** Distinct error messages kept for the report; beyond this they are only counted. */
const MAX_ERROR_KINDS = 20;

export class Recorder {
  readonly endpoints = new Map<string, EndpointStats>();
  readonly operations = { count: 0, errors: 0, late: 0, dropped: 0, cancelled: 0 };
  readonly opLatency: Histogram = newHistogram();
  readonly opRaw: Histogram = newHistogram();
  readonly bytes = { sent: 0, received: 0 };
  /** Operations and errors ended in each second since `t0`. */
  readonly timeline: { ops: number; errors: number }[] = [];
  readonly errorKinds = new Map<string, number>();
  /** Since the last takeInterval(): what the live progress line shows. */
  private interval = { ops: 0, errors: 0, hist: newHistogram() };

  /** `t0`: performance.now() at the start of the measured period. */
  constructor(readonly t0: number) {}

  endpoint(name: string): EndpointStats {
    let s = this.endpoints.get(name);
    if (!s) this.endpoints.set(name, (s = new EndpointStats()));
    return s;
  }

  /** One request; `lateMs` is how far behind schedule its operation was sent (first request of an op only). */
  request(o: Observation, lateMs = 0): void {
    const s = this.endpoint(o.endpoint);
    s.count++;
    const key = String(o.status);
    s.status[key] = (s.status[key] ?? 0) + 1;
    recordMs(s.raw, o.totalMs);
    recordMs(s.latency, o.totalMs + lateMs);
    recordMs(s.ttfb, o.ttfbMs + lateMs);
    this.bytes.sent += o.bytesSent;
    this.bytes.received += o.bytesReceived;
  }

  /** A request whose outcome failed its operation (unexpected status, network error, bad bytes). */
  requestFailed(endpoint: string): void {
    this.endpoint(endpoint).errors++;
  }

  operation(ok: boolean, end: number, rawMs: number, lateMs: number, error?: string): void {
    const o = this.operations;
    o.count++;
    recordMs(this.opRaw, rawMs);
    recordMs(this.opLatency, rawMs + lateMs);
    recordMs(this.interval.hist, rawMs + lateMs);
    this.interval.ops++;
    const sec = Math.max(0, Math.floor((end - this.t0) / 1000));
    while (this.timeline.length <= sec) this.timeline.push({ ops: 0, errors: 0 });
    const slot = this.timeline[sec]!;
    slot.ops++;
    if (!ok) {
      o.errors++;
      slot.errors++;
      this.interval.errors++;
      const msg = (error ?? "unknown error").slice(0, 300);
      if (this.errorKinds.has(msg) || this.errorKinds.size < MAX_ERROR_KINDS) this.errorKinds.set(msg, (this.errorKinds.get(msg) ?? 0) + 1);
    }
  }

  /** Operations, errors and the latency histogram since the previous call (then reset). */
  takeInterval(): { ops: number; errors: number; hist: Histogram } {
    const i = this.interval;
    this.interval = { ops: 0, errors: 0, hist: newHistogram() };
    return i;
  }
}
