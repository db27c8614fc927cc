// Compressor choice by measurement: every library/level imgx could use, run on the same 1 MiB
// blocks it compresses (one core, one block at a time, as each worker does), on both corpora.
// Prints MiB/s of input and the output/input ratio; what `compressBlock` defaults to comes from here.
import { compressBlock, type BlockCodec } from "../../src/copy/block-compress.ts";
import { median, row } from "./measure.ts";

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

export async function benchLevels(corpora: { name: string; path: string }[], sampleMiB: number, runs: number): Promise<void> {
  const lines = [
    `### compressor per 1 MiB block, one core (${sampleMiB} MiB sampled evenly from each corpus, median of ${runs})`,
    "",
    `| codec | ${corpora.map((c) => `${c.name} MiB/s | ${c.name} ratio`).join(" | ")} |`,
    `|---|${corpora.map(() => "---|---|").join("")}`,
  ];
  const blocks = await Promise.all(corpora.map((c) => sample(c.path, sampleMiB)));
  for (const cand of CANDIDATES) {
    const cols: (string | number)[] = [cand.label];
    for (const bs of blocks) {
      const mib = bs.length;
      const times: number[] = [];
      let outBytes = 0;
      for (let r = 0; r < runs; r++) {
        outBytes = 0;
        const t0 = performance.now();
        for (const b of bs) outBytes += compressBlock(b, cand.codec).length;
        times.push((performance.now() - t0) / 1000);
      }
      cols.push((mib / median(times)).toFixed(0), (outBytes / (mib * BLOCK)).toFixed(3));
    }
    lines.push(row(cols));
  }
  console.log(`${lines.join("\n")}\n`);
}
