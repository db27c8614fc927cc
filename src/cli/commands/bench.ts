// imgx bench pull|push|head|manifest|mixed REF, and imgx bench merge FILE…: flags in, signal
// handling, live progress on a terminal, the table and the summary document out.
import { cpus } from "node:os";
import { rename, writeFile } from "node:fs/promises";
import { ImgxError, q } from "../../core/errors.ts";
import { hostPlatform, parsePlatform } from "../../core/platform.ts";
import { parseDockerReference } from "../../core/reference.ts";
import { renderHtml } from "../../bench/html.ts";
import { mergeSummaries } from "../../bench/merge.ts";
import { startPrometheus } from "../../bench/prometheus.ts";
import type { Recorder } from "../../bench/recorder.ts";
import { runBench, type ScenarioName } from "../../bench/run.ts";
import { checkSummary, type BenchSummary } from "../../bench/summary.ts";
import { progressLine, renderTable } from "../../bench/table.ts";
import type { CliContext } from "../context.ts";
import { EXIT } from "../exit-codes.ts";
import { addRegistryFlags, intFlag, oneString, registryOptions, strings, type Flags } from "../options.ts";
import { loadSpec, parseStartAt, pushSpec } from "./bench-flags.ts";
import { reexecForInFlight } from "./bench-reexec.ts";

const SCENARIOS = ["pull", "push", "head", "manifest", "mixed", "merge"];

export function registerBench(ctx: CliContext): void {
  const c = ctx.cli
    .command("bench <scenario> [...args]", "Load-test a registry: pull | push | head | manifest | mixed REF, or merge FILE…")
    .option("-c, --concurrency <n>", "Closed model: workers (default 16). With --rate: most operations in flight (default 64)")
    .option("--rate <ops/s>", "Open model: operations per second at constant arrival (latency from the intended start)")
    .option("--ramp <duration>", "Open model: reach --rate linearly over this time")
    .option("--duration <duration>", "Measured time, e.g. 30s, 5m (default 30s unless --count)")
    .option("--count <n>", "Measured operations (over all shards)")
    .option("--warmup <duration>", "Run this long first without counting")
    .option("--shard <I/N>", "Run the I-th (0-based) of N equal shares of the rate or count")
    .option("--start-at <time>", "Wait until this time (ISO 8601 or Unix seconds) so N processes start together")
    .option("--max-errors <n>", "Stop once this many operations failed")
    .option("--platform <os/arch[/variant]>", `Image of an index to use (default: ${hostPlatform().os}/${hostPlatform().architecture})`)
    .option("--layers <n>", "push: layers per image (default 2)")
    .option("--layer-size <size>", "push: bytes per layer, e.g. 1M (default 1MiB)")
    .option("--upload-mode <mode>", "push: monolithic | chunked | streamed (default monolithic)")
    .option("--chunk-size <size>", "push --upload-mode chunked: bytes per PATCH (default 256K)")
    .option("--mix <weights>", "mixed: e.g. pull=70,push=20,head=10")
    .option("--cleanup", "push: delete the pushed manifests and blobs afterwards (where the registry allows deletes)")
    .option("--seed <n>", "Seed for push bodies and the mixed draw (default 1)")
    .option("--json", "Print the summary document on stdout (the table goes to stderr)")
    .option("--out <file>", "Also write the summary document to this file")
    .option("--html <file>", "Write an HTML report (latency percentile curves, ops/s over time)")
    .option("--prometheus <[host:]port>", "Serve live metrics at http://host:port/metrics while running")
    .option("-q, --quiet", "No table and no progress (with --out/--json for scripts)")
    .option("--debug", "Trace registry requests (secrets redacted)");
  addRegistryFlags(c);
  // bench counts every send: it never retries unless asked
  const retries = c.options.find((o) => o.name === "retries");
  if (retries) retries.description = "Retries for idempotent requests (bench default 0: each retry is a request of its own)";
  c.example("imgx bench head registry.local:5000/team/app:1 --concurrency 64 --duration 30s")
    .example("imgx bench pull registry.local:5000/team/app:1 --rate 200 --ramp 10s --duration 2m --out pull.json")
    .example("imgx bench push registry.local:5000/bench/push --layers 2 --layer-size 1M --upload-mode chunked --cleanup")
    .example("imgx bench merge shard-*.json --html report.html")
    .action(async (scenario: string, args: string[], flags: Flags) => {
      if (!SCENARIOS.includes(scenario)) throw new ImgxError("USAGE", `Cannot bench ${q(scenario)}: expected one of ${SCENARIOS.join(", ")}`);
      if (scenario === "merge") return merge(args, flags, ctx.argv);
      return bench(scenario as ScenarioName, args, flags, ctx);
    });
}

async function bench(scenario: ScenarioName, args: string[], flags: Flags, ctx: CliContext): Promise<number> {
  if (args.length !== 1) throw new ImgxError("USAGE", `Cannot run bench ${scenario}: expected exactly one ${scenario === "push" ? "REPO" : "REF"}, got ${args.length}`);
  const argv = ctx.argv;
  const load = loadSpec(argv);
  if (load.concurrency > 64 && !flags.quiet && !process.env.BUN_CONFIG_MAX_HTTP_REQUESTS)
    process.stderr.write(`imgx: note: one process keeps at most 64 idle connections (Bun), so with --concurrency ${load.concurrency} connections are re-opened as load comes and goes; for more, run more processes (--shard)\n`);
  const reexec = await reexecForInFlight(load.concurrency);
  if (reexec !== undefined) return reexec;
  const raw = args[0]!;
  const ref = parseDockerReference(raw.startsWith("docker://") ? raw : `docker://${raw}`);
  const platforms = strings(argv, "platform").flatMap((s) => s.split(",")).filter(Boolean);
  if (platforms.length > 1) throw new ImgxError("USAGE", "Cannot bench more than one --platform at once: pick one");
  const registry = await registryOptions(ctx, argv, flags);
  registry.retries ??= 0;
  const startAt = oneString(argv, "start-at");
  const quiet = !!flags.quiet;
  const out = process.stdout;
  const table = (s: string) => (quiet ? undefined : (flags.json ? process.stderr : out).write(s));

  // Ctrl-C: stop, print what ran, exit 130; a second Ctrl-C exits at once
  const ctl = new AbortController();
  let firstSignal = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // a re-executed bench hears Ctrl-C twice at once (from the terminal and forwarded by its
    // parent): only a second signal a moment later means "quit now"
    if (ctl.signal.aborted) {
      if (performance.now() - firstSignal > 500) process.exit(130);
      return;
    }
    firstSignal = performance.now();
    process.stderr.write(`\nimgx: ${sig}: stopping; summary of what ran follows (again to quit at once)\n`);
    ctl.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let prom: { stop(): void } | undefined;
  let live: Recorder | undefined;
  try {
    if (startAt !== undefined) await waitUntil(parseStartAt(startAt), ctl.signal);
    const promAddr = oneString(argv, "prometheus");
    if (promAddr) prom = startPrometheus(promAddr, () => live, { scenario, target: raw });
    const tty = process.stderr.isTTY && !quiet;
    const summary = await runBench(
      {
        scenario,
        ref,
        target: raw,
        load,
        platform: platforms[0] ? parsePlatform(platforms[0]) : hostPlatform(),
        push: pushSpec(argv),
        mix: oneString(argv, "mix"),
        cleanup: !!flags.cleanup,
        seed: intFlag(argv, "seed") ?? 1,
        registry,
        cores: cpus().length,
      },
      {
        signal: ctl.signal,
        onRecorder: (r) => (live = r),
        onProgress: tty ? (p) => process.stderr.write(`\r\x1b[K${progressLine(p.elapsedS, p.measuring ? "run " : "warm", { ...p }, p.totalErrors)}`) : undefined,
      },
    );
    if (tty) process.stderr.write("\r\x1b[K");
    await emit(summary, flags, argv);
    table(renderTable(summary));
    if (ctl.signal.aborted) return 130;
    return summary.stoppedBy === "max-errors" ? EXIT.network : EXIT.ok;
  } finally {
    prom?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function merge(files: string[], flags: Flags, argv: string[]): Promise<number> {
  if (files.length === 0) throw new ImgxError("USAGE", "Cannot merge: give the result files (imgx bench merge a.json b.json …)");
  const list: { name: string; summary: BenchSummary }[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await Bun.file(f).text();
    } catch (e) {
      throw new ImgxError("IO", `Cannot read ${q(f)}: ${(e as Error).message}`);
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      // `kubectl logs` mixes stderr lines in: take the document --json printed, from its "{" line to its "}" line
      const from = text.search(/^\{$/m);
      const to = text.lastIndexOf("\n}");
      try {
        if (from < 0 || to < from) throw new Error();
        v = JSON.parse(text.slice(from, to + 2));
      } catch {
        throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(f)}: not JSON`, { hint: "pass files written by imgx bench --out or --json" });
      }
    }
    list.push({ name: f, summary: checkSummary(v, q(f)) });
  }
  const merged = mergeSummaries(list);
  await emit(merged, flags, argv);
  if (!flags.quiet) (flags.json ? process.stderr : process.stdout).write(renderTable(merged));
  return EXIT.ok;
}

async function emit(s: BenchSummary, flags: Flags, argv: string[]): Promise<void> {
  const doc = `${JSON.stringify(s, null, 2)}\n`;
  if (flags.json) process.stdout.write(doc);
  const outFile = oneString(argv, "out");
  if (outFile) await atomicWrite(outFile, doc, "--out");
  const html = oneString(argv, "html");
  if (html) await atomicWrite(html, renderHtml(s), "--html");
}

async function atomicWrite(path: string, text: string, flag: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    throw new ImgxError("IO", `Cannot write ${flag} ${q(path)}: ${(e as Error).message}`);
  }
}

async function waitUntil(epochMs: number, signal: AbortSignal): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait <= 0) {
    if (wait < -1000) process.stderr.write(`imgx: --start-at is ${(-wait / 1000).toFixed(1)} s in the past; starting now\n`);
    return;
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, wait);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}
