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

const spools = new Set<string>();
process.on("exit", () => {
  for (const d of spools) rmSync(d, { recursive: true, force: true });
});

/**
 * Opens a tar archive for indexed reads. A compressed archive can't be read by offset, so it is
 * first decompressed (streamed) into a private temp file, as `docker load` and skopeo also do.
 */
export async function openArchive(path: string): Promise<OpenArchive> {
  const c = fileCompression(path);
  if (c === "none") return { tree: new TarTree(path), close: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), "imgx-spool-"));
  spools.add(dir);
  const drop = async () => {
    rmSync(dir, { recursive: true, force: true });
    spools.delete(dir);
  };
  const file = join(dir, "archive.tar");
  try {
    const w = Bun.file(file).writer({ highWaterMark: 1 << 20 });
    const body = Bun.file(path).stream().pipeThrough(new DecompressionStream(c as "gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
    try {
      for await (const chunk of body) w.write(chunk);
    } finally {
      await w.end();
    }
  } catch (e) {
    await drop();
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: corrupt ${c} data (${(e as Error).message})`, { cause: e });
  }
  try {
    return { tree: new TarTree(path, file), close: drop };
  } catch (e) {
    await drop();
    throw e;
  }
}
