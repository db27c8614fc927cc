import { closeSync, openSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { createTarPacker, type TarPackController } from "modern-tar";
import { ImgxError, q } from "../core/errors.ts";
import { tempSibling } from "./atomic.ts";
import { blobPath } from "./layout-names.ts";

const EPOCH = new Date(0);
const YIELD_EVERY = 8 << 20;

/**
 * Streams a tar archive into a temp file next to `finalPath` and renames it at commit. Entries are
 * deterministic (mtime 0, root-owned, 0644). After a failed entry the archive is unusable: every
 * later call rethrows the first error instead of writing a corrupt tar.
 */
export class TarFileWriter {
  private readonly temp: string;
  private readonly controller: TarPackController;
  private readonly pump: Promise<void>;
  private failed: unknown;
  private aborted = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly finalPath: string) {
    this.temp = tempSibling(finalPath);
    try {
      // Fail before any copying when the destination directory is missing or not writable.
      closeSync(openSync(this.temp, "wx"));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? `directory ${q(dirname(finalPath))} does not exist` : code === "EACCES" ? `no permission to write in ${q(dirname(finalPath))}` : (e as Error).message;
      throw new ImgxError("IO", `Cannot write ${q(finalPath)}: ${why}`, { cause: e });
    }
    const { readable, controller } = createTarPacker();
    this.controller = controller;
    const temp = this.temp;
    // A failed disk write fails the entry being written now, and every later one, at once; it is
    // recorded before the loop exits, because leaving the loop cancels the packer and the entry then
    // sees only an AbortError.
    const fail = (e: unknown) => {
      this.failed ??= new ImgxError("IO", `Cannot write ${q(this.finalPath)}: ${(e as Error).message}`, { cause: e });
      try {
        this.controller.error(this.failed);
      } catch {}
    };
    this.pump = (async () => {
      const w = Bun.file(temp).writer({ highWaterMark: 1 << 20 });
      try {
        // write() hands back a promise while it flushes: awaiting it is the backpressure, and the
        // only place a write error (ENOSPC, EIO) surfaces instead of becoming an unhandled rejection
        let sinceYield = 0;
        for await (const chunk of readable) {
          try {
            const r: unknown = w.write(chunk);
            if (r instanceof Promise) await r;
          } catch (e) {
            fail(e);
            throw e;
          }
          // File reads and buffered writes can both complete without ever leaving the microtask
          // queue, which would starve timers and signal handlers (Ctrl-C would wait for the whole
          // archive): give the event loop a turn every few MiB.
          sinceYield += chunk.byteLength;
          if (sinceYield >= YIELD_EVERY) {
            sinceYield = 0;
            await new Promise((r) => setImmediate(r));
          }
        }
        await w.end();
      } catch (e) {
        await Promise.resolve()
          .then(() => w.end())
          .catch(() => {});
        throw e;
      }
    })();
    this.pump.catch(fail);
  }

  /** Adds one regular file; calls are serialised because a tar is written front to back. */
  add(name: string, size: number, body: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
    const run = async () => {
      if (this.failed) {
        // every stream handed over is read or cancelled, even when it can no longer be written
        if (body instanceof ReadableStream) await body.cancel(this.failed).catch(() => {});
        throw this.failed;
      }
      const ws = this.controller.add({ name, size, type: "file", mtime: EPOCH, mode: 0o644, uid: 0, gid: 0, uname: "", gname: "" });
      try {
        if (body instanceof Uint8Array) {
          const w = ws.getWriter();
          await w.write(body);
          await w.close();
        } else await body.pipeTo(ws);
      } catch (e) {
        // a disk failure noticed by the pump is the cause of whatever this entry saw
        this.failed ??= e;
        throw this.failed;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  async commit(): Promise<void> {
    await this.queue;
    if (this.failed) throw this.failed;
    this.controller.finalize();
    try {
      await this.pump;
      // an abort (Ctrl-C) that came while the trailer was written still wins
      if (this.aborted) throw this.failed;
      await rename(this.temp, this.finalPath);
    } catch (e) {
      await rm(this.temp, { force: true });
      throw new ImgxError("IO", `Cannot write ${q(this.finalPath)}: ${(e as Error).message}`, { cause: e });
    }
  }

  async abort(): Promise<void> {
    // a copy still running (abort from a signal handler) must not add entries or commit afterwards
    this.aborted = true;
    this.failed ??= new ImgxError("IO", `Cannot write ${q(this.finalPath)}: the copy was aborted`);
    try {
      this.controller.error(this.failed);
    } catch {}
    await this.pump.catch(() => {});
    await rm(this.temp, { force: true });
  }
}

/** Content-addressed blobs (`blobs/sha256/<hex>`) in a tar being written, each stored once. */
export class TarBlobStore {
  private readonly written = new Set<string>();
  constructor(private readonly tar: TarFileWriter) {}

  has(digest: string): boolean {
    return this.written.has(digest);
  }

  /** Streams a blob whose digest and size are known up front (tar headers come first). */
  async put(digest: string | undefined, size: number | undefined, body: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
    if (!digest || size === undefined) {
      if (body instanceof ReadableStream) await body.cancel().catch(() => {});
      throw new ImgxError("IO", `Cannot write to ${q(this.tar.finalPath)}: a tar entry needs the blob's digest and size first`);
    }
    if (this.written.has(digest)) {
      if (body instanceof ReadableStream) await body.cancel();
      return;
    }
    await this.tar.add(blobPath(digest), size, body);
    this.written.add(digest);
  }
}
