import { closeSync, openSync, readSync } from "node:fs";
import { ImgxError, q } from "../core/errors.ts";
import { sniffCompression, type Compression } from "../core/media-types.ts";
import { TarTree } from "./file-tree.ts";
import { spoolToTemp, type Spooled } from "./spool.ts";

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
  const body = c === "none" ? input : input.pipeThrough(new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  let spool: Spooled;
  try {
    spool = await spoolToTemp(body, q(label));
  } catch (e) {
    if (e instanceof ImgxError) throw e;
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(label)}: corrupt ${c} data (${(e as Error).message})`, { cause: e });
  }
  try {
    return { tree: new TarTree(label, spool.path), close: spool.dispose };
  } catch (e) {
    await spool.dispose();
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
