// Where the upload reads a layer's bytes from (offsets are in the tar: the file itself, or the
// decompressed stream of a gzip/zstd tarball). Both answer read(start, end) with the bytes, and
// body(start, end, reading) with what a PUT sends.
//   FileBytes    a plain tarball: any range in any order; the PUT body is a File.slice, which
//                chromium streams from disk (an ArrayBuffer body is copied to the network process).
//   StreamBytes  a compressed tarball: read in order by one decompression pass; going back (a
//                layer restarted, a reload) decompresses again from the start. It holds at most the
//                last range read plus the one being read: a chunk or two, never a layer.
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

  /** Where reading `start` would begin from: the file seeks, so nothing to catch up on. */
  behind() {
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
    this.last = undefined; // { start, bytes }: the last range read, for a retry of the same chunk
  }

  open() {
    this.reader?.cancel();
    this.reader = new StreamReader(decompressed(this.file, this.format), `${this.file.name ?? "the file"} (${this.format})`);
  }

  /** How many bytes must be decompressed, and not sent, before `start` can be read ("catching up"). */
  behind(start) {
    const at = !this.reader || start < this.reader.pos ? 0 : this.reader.pos;
    return this.cached(start) ? 0 : Math.max(0, start - at);
  }

  cached(start) {
    const l = this.last;
    return l && start >= l.start && start < l.start + l.bytes.length;
  }

  /** Decompresses up to `to` without keeping the bytes; onProgress(pos) now and then. */
  async seek(to, onProgress) {
    if (!this.reader || to < this.reader.pos) this.open();
    const rd = this.reader;
    while (rd.pos < to) {
      await rd.skip(Math.min(to - rd.pos, 8 * 1024 * 1024));
      onProgress?.(rd.pos);
    }
  }

  async read(start, end, onProgress) {
    const out = new Uint8Array(end - start);
    let at = start;
    if (this.cached(start)) {
      const l = this.last;
      const part = l.bytes.subarray(start - l.start, Math.min(end, l.start + l.bytes.length) - l.start);
      out.set(part);
      at += part.length;
    }
    if (at < end) {
      await this.seek(at, onProgress);
      let o = at - start;
      await this.reader.feed(end - at, (b) => {
        out.set(b, o);
        o += b.length;
      });
    }
    this.last = { start, bytes: out };
    return out;
  }

  /** A Blob of the chunk: chromium sends a Blob body several times faster than an ArrayBuffer one. */
  async body(_start, _end, reading) {
    return new Blob([await reading]);
  }

  close() {
    this.reader?.cancel();
    this.reader = this.last = undefined;
  }
}
