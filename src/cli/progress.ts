import type { CopyEvent } from "../copy/events.ts";
import { duration, humanBytes, shortDigest } from "./format.ts";

export type OutputMode = "json" | "quiet" | "tty" | "lines";

export function outputMode(flags: { json?: unknown; quiet?: unknown }): OutputMode {
  if (flags.json) return "json";
  if (flags.quiet) return "quiet";
  return process.stderr.isTTY ? "tty" : "lines";
}

/** Renders pipeline events: NDJSON on stdout, bars on a TTY, one line per blob otherwise. */
export function progressRenderer(mode: OutputMode): { onEvent: (e: CopyEvent) => void; finish: () => void } {
  if (mode === "quiet") return { onEvent: () => {}, finish: () => {} };
  if (mode === "json") return { onEvent: (e) => process.stdout.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`), finish: () => {} };
  if (mode === "lines") {
    return {
      onEvent: (e) => {
        if (e.type === "blob-done")
          process.stderr.write(`${e.state.padEnd(7)} ${shortDigest(e.digest)} ${humanBytes(e.size)}${e.state === "copied" ? ` in ${duration(e.seconds)}` : ""}\n`);
        else if (e.type === "manifest") process.stderr.write(`manifest ${shortDigest(e.digest)}${e.names.length ? ` ${e.names.join(", ")}` : ""}\n`);
        else if (e.type === "summary")
          process.stderr.write(`done: ${humanBytes(e.bytes)} in ${duration(e.seconds)} (${e.blobs.copied} copied, ${e.blobs.exists} existing, ${e.blobs.mounted} mounted)\n`);
      },
      finish: () => {},
    };
  }
  return ttyBars();
}

function ttyBars(): { onEvent: (e: CopyEvent) => void; finish: () => void } {
  const color = !process.env.NO_COLOR;
  const rows = new Map<string, { size?: number; bytes: number; state: string; started: number }>();
  let drawn = 0;
  let last = 0;
  let summary = "";
  const started = performance.now();
  const draw = (force = false) => {
    const now = performance.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = Math.max(10, Math.min(30, (process.stderr.columns ?? 80) - 60));
    const lines: string[] = [];
    let total = 0;
    let done = 0;
    for (const [d, r] of rows) {
      total += r.size ?? r.bytes;
      done += r.bytes;
      const frac = r.size ? Math.min(1, r.bytes / r.size) : r.state === "copying" ? 0 : 1;
      const fill = Math.round(frac * width);
      const bar = `[${"=".repeat(fill)}${fill < width ? ">" : ""}${" ".repeat(Math.max(0, width - fill - 1))}]`;
      const secs = (now - r.started) / 1000;
      const rate = secs > 0 ? r.bytes / secs : 0;
      const eta = r.size && rate > 0 ? (r.size - r.bytes) / rate : NaN;
      const detail = r.state === "copying" ? `${humanBytes(r.bytes)}/${r.size ? humanBytes(r.size) : "?"} ${humanBytes(rate)}/s ETA ${duration(eta)}` : r.state;
      const label = r.state === "copying" ? bar : color ? `\x1b[32m${bar}\x1b[0m` : bar;
      lines.push(`${shortDigest(d)} ${label} ${detail}`);
    }
    const secs = (now - started) / 1000;
    lines.push(summary || `total ${humanBytes(done)}/${humanBytes(total)} ${humanBytes(secs > 0 ? done / secs : 0)}/s`);
    let out = drawn ? `\x1b[${drawn}A` : "";
    for (const l of lines) out += `\x1b[2K${l}\n`;
    drawn = lines.length;
    process.stderr.write(out);
  };
  return {
    onEvent: (e) => {
      if (e.type === "blob-start") rows.set(e.digest, { size: e.size, bytes: 0, state: "copying", started: performance.now() });
      else if (e.type === "blob-progress") {
        const r = rows.get(e.digest);
        if (r) r.bytes = e.bytes;
      } else if (e.type === "blob-done") {
        const r = rows.get(e.digest) ?? { size: e.size, bytes: 0, state: "", started: performance.now() };
        r.bytes = r.size ?? e.size;
        r.state = e.state === "copied" ? "done" : e.state;
        rows.set(e.digest, r);
      } else if (e.type === "summary")
        summary = `done: ${humanBytes(e.bytes)} in ${duration(e.seconds)} (${e.blobs.copied} copied, ${e.blobs.exists} existing, ${e.blobs.mounted} mounted)`;
      draw(e.type !== "blob-progress");
    },
    finish: () => draw(true),
  };
}
