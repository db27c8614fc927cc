// --prometheus [host:]port: the live run in Prometheus' text format, scraped while the load runs.
import { ImgxError, q } from "../core/errors.ts";
import type { Recorder } from "./recorder.ts";

const label = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

export function metricsText(rec: Recorder | undefined, labels: { scenario: string; target: string }): string {
  const base = `scenario="${label(labels.scenario)}",target="${label(labels.target)}"`;
  const out: string[] = [
    "# HELP imgx_bench_operations_total Operations ended in the measured period.",
    "# TYPE imgx_bench_operations_total counter",
    `imgx_bench_operations_total{${base}} ${rec?.operations.count ?? 0}`,
    "# HELP imgx_bench_operation_errors_total Operations that failed.",
    "# TYPE imgx_bench_operation_errors_total counter",
    `imgx_bench_operation_errors_total{${base}} ${rec?.operations.errors ?? 0}`,
    "# HELP imgx_bench_requests_total HTTP requests sent, by endpoint and status.",
    "# TYPE imgx_bench_requests_total counter",
  ];
  const lat: string[] = ["# HELP imgx_bench_request_latency_seconds Request latency quantiles since the start.", "# TYPE imgx_bench_request_latency_seconds summary"];
  for (const [name, s] of rec?.endpoints ?? []) {
    for (const [status, n] of Object.entries(s.status)) out.push(`imgx_bench_requests_total{${base},endpoint="${label(name)}",status="${status}"} ${n}`);
    for (const qv of [0.5, 0.9, 0.99, 0.999]) lat.push(`imgx_bench_request_latency_seconds{${base},endpoint="${label(name)}",quantile="${qv}"} ${s.latency.getValueAtPercentile(qv * 100) / 1e6}`);
    lat.push(`imgx_bench_request_latency_seconds_count{${base},endpoint="${label(name)}"} ${s.latency.totalCount}`);
  }
  return `${[...out, ...lat].join("\n")}\n`;
}

export function startPrometheus(addr: string, current: () => Recorder | undefined, labels: { scenario: string; target: string }): { stop(): void } {
  const m = /^(?:(.*):)?(\d+)$/.exec(addr.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new ImgxError("USAGE", `Cannot use --prometheus ${q(addr)}: expected [host]:port, e.g. :9464`);
  const hostname = m[1] ? m[1].replace(/^\[|\]$/g, "") : "127.0.0.1";
  try {
    const server = Bun.serve({
      hostname,
      port,
      fetch: (req) => (new URL(req.url).pathname === "/metrics" ? new Response(metricsText(current(), labels), { headers: { "content-type": "text/plain; version=0.0.4" } }) : new Response("see /metrics\n", { status: 404 })),
    });
    return { stop: () => server.stop(true) };
  } catch (e) {
    throw new ImgxError("IO", `Cannot serve --prometheus on ${q(addr)}: ${(e as Error).message}`);
  }
}
