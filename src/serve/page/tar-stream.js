// A gzip- or zstd-compressed tarball can only be read in order: this decompresses it as a stream,
// reads it with a reader that takes or skips bytes, and indexes it in one pass, keeping in memory
// only the small JSON entries (manifests, configs, index.json) and the first bytes of every file.
// The layers are read again, in a second pass, by StreamBytes (layer-bytes.js).
import { BadArchive, TarHeaders } from "./tar-index.js";

/** Largest entry kept in memory while indexing (as readEntry's limit for a manifest or config). */
export const KEEP_MAX = 16 * 1024 * 1024;
const MAGIC = 4; // bytes kept of every file entry, for sniff(): is a layer gzip, zstd or a plain tar

/**
 * zstd: the browser's own DecompressionStream where it has one (Bun has; Debian's chromium 156 does
 * not), else fzstd (pure JS, loaded by the page as the global `fzstd`). fzstd does not check
 * zstd's optional content checksum; the layers are checked against their diff_ids anyway.
 */
function zstdStream() {
  try {
    return new DecompressionStream("zstd");
  } catch {
    /* not in this browser: fzstd */
  }
  if (typeof fzstd === "undefined") throw new BadArchive("This browser cannot decompress zstd, and the page's zstd decoder did not load");
  let d;
  return new TransformStream({
    start(ctl) {
      d = new fzstd.Decompress((chunk) => chunk.length && ctl.enqueue(chunk));
    },
    transform(chunk) {
      d.push(chunk);
    },
    flush() {
      d.push(new Uint8Array(0), true); // throws when the input stopped inside a frame
    },
  });
}

/** The decompressed bytes of a File, as a stream. `format` is what sniff() said: gzip or zstd. */
export function decompressed(file, format) {
  return file.stream().pipeThrough(format === "gzip" ? new DecompressionStream("gzip") : zstdStream());
}

/** Reads a stream in order: take n bytes, skip n bytes, or hand them on piece by piece (no copies). */
export class StreamReader {
  constructor(stream, what) {
    this.reader = stream.getReader();
    this.what = what; // e.g. "app.tar.gz (gzip)", for messages
    this.left = undefined; // the unread rest of the last piece
    this.pos = 0; // bytes of the decompressed stream consumed so far
  }

  async piece() {
    if (this.left) {
      const b = this.left;
      this.left = undefined;
      return b;
    }
    let r;
    try {
      r = await this.reader.read();
    } catch (e) {
      throw new BadArchive(`Cannot decompress ${this.what}: the data is corrupt, or the file was cut short or changed since it was picked (${e?.message ?? e}, after ${this.pos} decompressed bytes)`);
    }
    return r.done ? undefined : r.value;
  }

  /** Passes the next n bytes to fn, in the pieces the decompressor produced. */
  async feed(n, fn) {
    while (n > 0) {
      const b = await this.piece();
      if (!b) throw new BadArchive(`Truncated tar in ${this.what}: it ends at decompressed byte ${this.pos}, ${n} bytes short (was the file copied completely?)`);
      const part = b.length <= n ? b : b.subarray(0, n);
      if (part !== b) this.left = b.subarray(n);
      this.pos += part.length;
      n -= part.length;
      await fn(part);
    }
  }

  skip(n) {
    return this.feed(n, () => {});
  }

  async take(n) {
    const out = new Uint8Array(n);
    let o = 0;
    await this.feed(n, (b) => {
      out.set(b, o);
      o += b.length;
    });
    return out;
  }

  /** Reads to the end, so that the decompressor checks its trailer (gzip's CRC and length). */
  async drain() {
    while (await this.piece());
  }

  cancel() {
    this.reader.cancel().catch(() => {});
  }
}

const looksLikeJson = (b) => b.length > 0 && [0x7b, 0x5b, 0x20, 0x09, 0x0a, 0x0d].includes(b[0]); // { [ or whitespace

/**
 * The kept bytes of a decompressed tarball, seen as a Blob of its full size: slice() answers for
 * ranges inside kept entries, which is all that readEntry() and sniff() ask for.
 */
class KeptBytes {
  constructor(ranges, size) {
    this.ranges = ranges; // offset → bytes
    this.size = size;
  }

  slice(start, end) {
    const b = this.ranges.get(start);
    if (!b) throw new BadArchive(`Cannot read decompressed bytes ${start}–${end}: only the small JSON entries of a compressed tarball are kept`);
    return new Blob([b.subarray(0, Math.min(b.length, end - start))]);
  }
}

/**
 * One pass over a compressed tarball: the tar's entries (offsets in the decompressed stream), a
 * Blob-like view of the entries kept, and the decompressed size. onProgress(decompressedBytes, compressedFile).
 */
export async function indexTarStream(file, format, onProgress) {
  const rd = new StreamReader(decompressed(file, format), `${file.name ?? "the file"} (${format})`);
  const t = new TarHeaders();
  const kept = new Map();
  let shown = 0;
  try {
    for (;;) {
      const off = rd.pos;
      const e = t.header(await rd.take(512), off);
      if (!e) break;
      if (e.meta) {
        if (e.size > KEEP_MAX) throw new BadArchive(`A ${e.size}-byte long-name or PAX header at byte ${off}: not a docker-save or OCI archive`);
        t.meta(e.meta, await rd.take(e.size));
      } else if (e.file) {
        const head = await rd.take(Math.min(e.size, MAGIC));
        if (e.size <= KEEP_MAX && looksLikeJson(head)) {
          const all = new Uint8Array(e.size);
          all.set(head);
          all.set(await rd.take(e.size - head.length), head.length);
          kept.set(e.data, all);
        } else kept.set(e.data, head);
      }
      await rd.skip(e.next - rd.pos);
      if (rd.pos - shown >= 8 * 1024 * 1024) onProgress?.((shown = rd.pos));
    }
    const size = rd.pos; // up to the end-of-archive block: all that the layers need
    await rd.drain();
    return { entries: t.entries, kept: new KeptBytes(kept, size), size };
  } finally {
    rd.cancel();
  }
}
