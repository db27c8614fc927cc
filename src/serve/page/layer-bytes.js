// Where the upload reads a layer's bytes from (offsets are in the tar: the file itself, or the
// decompressed stream of a gzip/zstd tarball). Both answer read(start, end) with the bytes, and
// body(start, end, reading) with what a PUT sends.
//   FileBytes    a plain tarball: any range in any order; the PUT body is a File.slice, which
//                chromium streams from disk (an ArrayBuffer body is copied to the network process).
//   StreamBytes  a compressed tarball: read in order by one decompression pass; going back (a
//                layer restarted, a reload) decompresses again from the start. It holds the chunk
//                being sent (a retry resends what the server lacks of it) and the next one, read
//                ahead meanwhile: two chunks, never a layer.
import { StreamReader, decompressed } from "./tar-stream.js";
import { readBytes } from "./util.js";

export class FileBytes {
  constructor(file) {
    this.file = file;
    this.size = file.size;
    this.sequential = false;
  }

  read(start, end) {
    return readBytes(this.file, start, end);
  }

  async body(start, end) {
    return this.file.slice(start, end);
  }

  /** Bytes to decompress before `start` can be read: none, a file seeks. */
  async behind() {
    return 0;
  }

  close() {}
}

export class StreamBytes {
  /** `size`: the decompressed tar's size (from indexTarStream). */
  constructor(file, format, size) {
    Object.assign(this, { file, format, size });
    this.sequential = true;
    this.reader = undefined;
    this.kept = []; // { start, bytes }: the range being sent (for a retry) and the one read ahead
    this.ahead = undefined; // the next range, being decompressed while the current one is hashed and sent
    this.passes = 0; // decompression passes started: one, plus one each time reading had to go back
  }

  open() {
    this.passes++;
    this.reader?.cancel();
    this.reader = new StreamReader(decompressed(this.file, this.format), `${this.file.name ?? "the file"} (${this.format})`);
  }

  /** Waits for the read-ahead (a failed one is read again when needed, from the start). */
  async settle() {
    const a = this.ahead;
    if (!a) return;
    this.ahead = undefined;
    await a.catch(() => {
      this.reader?.cancel();
      this.reader = undefined;
    });
  }

  keeps(at) {
    return this.kept.find((k) => at >= k.start && at < k.start + k.bytes.length);
  }

  /** How many bytes must be decompressed, and not sent, before `start` can be read ("catching up"). */
  async behind(start) {
    await this.settle();
    if (this.keeps(start)) return 0;
    const at = !this.reader || start < this.reader.pos ? 0 : this.reader.pos;
    return Math.max(0, start - at);
  }

  /** Decompresses up to `to` without keeping the bytes; onProgress(pos) now and then. */
  async seek(to, onProgress) {
    await this.settle();
    await this.skipTo(to, onProgress);
  }

  async skipTo(to, onProgress) {
    if (!this.reader || to < this.reader.pos) this.open();
    const rd = this.reader;
    while (rd.pos < to) {
      await rd.skip(Math.min(to - rd.pos, 8 * 1024 * 1024));
      onProgress?.(rd.pos);
    }
  }

  /**
   * The bytes from start to end. Ranges before `start` are let go (the upload never goes back past
   * the chunk it sends), and the next range of the same length, up to `until`, is decompressed ahead.
   */
  async read(start, end, until = end) {
    await this.settle();
    this.kept = this.kept.filter((k) => k.start + k.bytes.length > start);
    const bytes = await this.range(start, end);
    if (end < until && !this.keeps(end)) {
      this.ahead = this.range(end, Math.min(until, end + (end - start)));
      this.ahead.catch(() => {}); // a failure is seen by the read that needs it
    }
    return bytes;
  }

  async range(start, end) {
    const whole = this.kept.find((k) => start >= k.start && end <= k.start + k.bytes.length);
    if (whole) return whole.bytes.subarray(start - whole.start, end - whole.start);
    const out = new Uint8Array(end - start);
    for (let at = start; at < end; ) {
      const k = this.keeps(at);
      if (k) {
        const part = k.bytes.subarray(at - k.start, Math.min(end, k.start + k.bytes.length) - k.start);
        out.set(part, at - start);
        at += part.length;
        continue;
      }
      const stop = Math.min(end, ...this.kept.filter((x) => x.start > at).map((x) => x.start));
      await this.skipTo(at);
      let o = at - start;
      await this.reader.feed(stop - at, (b) => {
        out.set(b, o);
        o += b.length;
      });
      at = stop;
    }
    this.kept.push({ start, bytes: out });
    return out;
  }

  /** A Blob of the chunk: chromium sends a Blob body several times faster than an ArrayBuffer one. */
  async body(_start, _end, reading) {
    return new Blob([await reading]);
  }

  close() {
    this.reader?.cancel();
    this.reader = this.ahead = undefined;
    this.kept = [];
  }
}
