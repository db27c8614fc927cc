// Compressor choice by measurement: every library/level imgx could use, run on the same 1 MiB
// blocks it compresses (one core, one block at a time, as each worker does), on both corpora.
// Prints MiB/s of input and the output/input ratio; what `compressBlock` defaults to comes from here.
import { compressBlock, type BlockCodec } from "../../src/copy/block-compress.ts";
import { row } from "./measure.ts";

const BLOCK = 2 ** 20;

export const CANDIDATES: { label: string; codec: BlockCodec }[] = [
  { label: "zlib 1", codec: { algo: "gzip", library: "zlib", level: 1 } },
  { label: "zlib 6 (imgx before)", codec: { algo: "gzip", library: "zlib", level: 6 } },
  ...[1, 2, 3, 4, 6].map((level) => ({ label: `libdeflate ${level}`, codec: { algo: "gzip" as const, library: "libdeflate" as const, level } })),
  ...[1, 3].map((level) => ({ label: `zstd ${level}`, codec: { algo: "zstd" as const, level } })),
];

/** Up to `sampleMiB` blocks spread evenly over the file (every part of every layer is represented). */
async function sample(path: string, sampleMiB: number): Promise<Uint8Array<ArrayBuffer>[]> {
  const f = Bun.file(path);
  const total = Math.floor(f.size / BLOCK);
  const n = Math.min(total, sampleMiB);
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < n; i++) {
    const off = Math.floor((i * total) / n) * BLOCK;
    out.push(new Uint8Array(await f.slice(off, off + BLOCK).arrayBuffer()));
  }
  return out;
}

/**
 * Throughput is the best of `runs` passes, the passes interleaved (every codec once, then again):
 * other work on the machine only ever slows a pass down, so the fastest is the least disturbed.
 */
export async function benchLevels(corpora: { name: string; path: string }[], sampleMiB: number, runs: number): Promise<void> {
  const blocks = await Promise.all(corpora.map((c) => sample(c.path, sampleMiB)));
  const best = CANDIDATES.map(() => blocks.map(() => Infinity));
  const outBytes = CANDIDATES.map(() => blocks.map(() => 0));
  for (let r = 0; r < runs; r++)
    for (const [i, cand] of CANDIDATES.entries())
      for (const [j, bs] of blocks.entries()) {
        let n = 0;
        const t0 = performance.now();
        for (const b of bs) n += compressBlock(b, cand.codec).length;
        best[i]![j] = Math.min(best[i]![j]!, (performance.now() - t0) / 1000);
        outBytes[i]![j] = n;
      }
  const lines = [
    `### compressor per 1 MiB block, one core (${sampleMiB} MiB sampled evenly from each corpus; MiB/s: best of ${runs} interleaved passes)`,
    "",
    `| codec | ${corpora.map((c) => `${c.name} MiB/s | ${c.name} ratio`).join(" | ")} |`,
    `|---|${corpora.map(() => "---|---|").join("")}`,
  ];
  for (const [i, cand] of CANDIDATES.entries()) {
    const cols: (string | number)[] = [cand.label];
    for (const [j, bs] of blocks.entries()) cols.push((bs.length / best[i]![j]!).toFixed(0), (outBytes[i]![j]! / (bs.length * BLOCK)).toFixed(3));
    lines.push(row(cols));
  }
  console.log(`${lines.join("\n")}\n`);
}
