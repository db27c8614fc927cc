import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImgxError, q } from "../core/errors.ts";
import { sniffCompression, type Compression } from "../core/media-types.ts";
import { TarTree } from "./file-tree.ts";

export interface OpenArchive {
  tree: TarTree;
  /** Removes the decompressed spool, if one was made. */
  close(): Promise<void>;
}

/** Compression of a file, from its magic bytes (`docker save | gzip` makes gzip-compressed tarballs). */
export function fileCompression(path: string): Compression {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return sniffCompression(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** Spool dirs carry the pid, so the CLI can sweep its own after an abrupt exit (see cli/temp-sweep.ts). */
export const SPOOL_PREFIX = "imgx-spool-";

/**
 * Opens a tar archive for indexed reads. A compressed archive can't be read by offset, so it is
 * first decompressed (streamed) into a private temp file, as `docker load` and skopeo also do; so is
 * standard input (path "-"), which can't be read twice.
 */
export async function openArchive(path: string): Promise<OpenArchive> {
  const stdin = path === "-";
  const label = stdin ? "standard input" : path;
  let input: ReadableStream<Uint8Array>;
  let c: Compression;
  if (stdin) ({ stream: input, compression: c } = await peekCompression(Bun.stdin.stream()));
  else {
    c = fileCompression(path);
    if (c === "none") return { tree: new TarTree(path), close: async () => {} };
    input = Bun.file(path).stream();
  }
  const dir = mkdtempSync(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`));
  const drop = async () => {
    rmSync(dir, { recursive: true, force: true });
  };
  const file = join(dir, "archive.tar");
  try {
    const w = Bun.file(file).writer({ highWaterMark: 1 << 20 });
    const body = c === "none" ? input : input.pipeThrough(new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    try {
      for await (const chunk of body) {
        // awaiting a flushing write() is the backpressure; a full temp disk is IO, not corrupt input
        try {
          const r: unknown = w.write(chunk);
          if (r instanceof Promise) await r;
        } catch (e) {
          throw new ImgxError("IO", `Cannot read ${q(label)}: spooling it to ${q(dir)} failed (${(e as Error).message})`, { cause: e });
        }
      }
    } catch (e) {
      await Promise.resolve()
        .then(() => w.end())
        .catch(() => {});
      throw e;
    }
    await Promise.resolve()
      .then(() => w.end())
      .catch((e) => {
        throw new ImgxError("IO", `Cannot read ${q(label)}: spooling it to ${q(dir)} failed (${(e as Error).message})`, { cause: e });
      });
  } catch (e) {
    await drop();
    if (e instanceof ImgxError) throw e;
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(label)}: corrupt ${c} data (${(e as Error).message})`, { cause: e });
  }
  try {
    return { tree: new TarTree(label, file), close: drop };
  } catch (e) {
    await drop();
    throw e;
  }
}

/** Reads the first bytes of a one-shot stream to sniff its compression, and gives back the whole stream. */
async function peekCompression(s: ReadableStream<Uint8Array>): Promise<{ stream: ReadableStream<Uint8Array>; compression: Compression }> {
  const reader = s.getReader();
  const head: Uint8Array[] = [];
  let n = 0;
  let done = false;
  while (n < 4 && !done) {
    const r = await reader.read();
    if (r.done) done = true;
    else (head.push(r.value), (n += r.value.byteLength));
  }
  const first = Buffer.concat(head);
  const stream = new ReadableStream<Uint8Array>({
    start(ctl) {
      if (first.byteLength) ctl.enqueue(new Uint8Array(first));
      if (done) ctl.close();
    },
    async pull(ctl) {
      const r = await reader.read();
      if (r.done) ctl.close();
      else ctl.enqueue(r.value);
    },
    cancel: (why) => reader.cancel(why),
  });
  return { stream, compression: sniffCompression(first) };
}
