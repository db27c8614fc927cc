import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImgxError, q } from "../core/errors.ts";

/** Spool dirs carry the pid, so the CLI can sweep its own after an abrupt exit (see cli/temp-sweep.ts). */
export const SPOOL_PREFIX = "imgx-spool-";

export interface Spooled {
  path: string;
  /** Removes the spool file and its private directory. */
  dispose(): Promise<void>;
}

/**
 * Writes a one-shot stream to a private temp file, for readers that need its size first or need to
 * read it twice. A full temp disk is one IO error naming the spool dir; an error of the stream itself
 * (a digest mismatch, corrupt compressed data) passes through unchanged. Nothing is left on failure.
 */
export async function spoolToTemp(stream: ReadableStream<Uint8Array>, what: string): Promise<Spooled> {
  const dir = mkdtempSync(join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-`));
  const dispose = async () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, "spool");
  const ioError = (e: unknown) => new ImgxError("IO", `Cannot read ${what}: spooling it to ${q(dir)} failed (${(e as Error).message})`, { cause: e });
  const w = Bun.file(path).writer({ highWaterMark: 1 << 20 });
  try {
    try {
      for await (const chunk of stream) {
        // awaiting a flushing write() is the backpressure, and surfaces ENOSPC once
        try {
          const r: unknown = w.write(chunk);
          if (r instanceof Promise) await r;
        } catch (e) {
          throw ioError(e);
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
        throw ioError(e);
      });
  } catch (e) {
    await dispose();
    throw e;
  }
  return { path, dispose };
}
