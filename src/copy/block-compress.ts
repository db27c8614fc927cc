import { ImgxError, q } from "../core/errors.ts";

export type BlockAlgo = "gzip" | "zstd";

/** How one block is compressed. `library` only matters for gzip (the bench compares zlib). */
export interface BlockCodec {
  algo: BlockAlgo;
  level: number;
  library?: "libdeflate" | "zlib";
}

/**
 * Default levels, chosen by `scripts/bench levels` on the real-file corpus (tars of /usr/bin,
 * /usr/share, /usr/include). gzip: libdeflate level 1... see README "Design notes".
 * zstd: level 3, zstd's own default.
 */
export const DEFAULT_LEVEL: Record<BlockAlgo, number> = { gzip: 1, zstd: 3 };

/** Levels each compressor accepts (libdeflate goes to 12, zlib's 9 is its 9). */
export const LEVELS: Record<BlockAlgo, { min: number; max: number }> = { gzip: { min: 1, max: 12 }, zstd: { min: 1, max: 22 } };

/** The codec for `algo` at `level` (default: DEFAULT_LEVEL); a level out of range is a usage error. */
export function blockCodec(algo: BlockAlgo, level?: number): BlockCodec {
  if (level === undefined) return { algo, level: DEFAULT_LEVEL[algo], library: algo === "gzip" ? "libdeflate" : undefined };
  const { min, max } = LEVELS[algo];
  if (!Number.isInteger(level) || level < min || level > max)
    throw new ImgxError("USAGE", `Cannot use --compress-level ${q(level)} with ${algo}: expected a whole number from ${min} (fastest) to ${max} (smallest); default ${DEFAULT_LEVEL[algo]}`);
  return { algo, level, library: algo === "gzip" ? "libdeflate" : undefined };
}

/**
 * Compresses one block into a complete gzip member or zstd frame; a stream of them, concatenated,
 * is one valid gzip (RFC 1952 members) or zstd (frames) stream that gunzip, Go's readers, skopeo
 * and DecompressionStream read in sequence.
 *
 * A gzip block that doesn't compress (already-compressed or random data) is stored instead of
 * deflated: about ten times faster for the same size. A 16 KiB level-1 probe decides (a 64 KiB one
 * cost more than storing the block). zstd spots incompressible data itself.
 *
 * Self-contained on purpose (no imports, no outer names): worker threads run this very function
 * from its source text (gzip-blocks.ts), and a page or another pool can do the same.
 */
export function compressBlock(block: Uint8Array<ArrayBuffer>, codec: { algo: "gzip" | "zstd"; level: number; library?: "libdeflate" | "zlib" }): Uint8Array {
  if (codec.algo === "zstd") return Bun.zstdCompressSync(block, { level: codec.level });
  const library = codec.library ?? "libdeflate";
  const probe = block.subarray(0, Math.min(block.length, 16384));
  const incompressible = probe.length > 0 && Bun.gzipSync(probe, { level: 1, library } as Parameters<typeof Bun.gzipSync>[1]).length >= probe.length * 0.97;
  return Bun.gzipSync(block, { level: incompressible ? 0 : codec.level, library } as Parameters<typeof Bun.gzipSync>[1]);
}
