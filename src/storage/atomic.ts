import { existsSync, statSync } from "node:fs";
import { chmod, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ImgxError, q } from "../core/errors.ts";

/** A hidden temp name next to `path`, so the final rename stays on one filesystem. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.imgx-tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
}

/** Writes a small file so readers see either the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode?: number): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data, mode === undefined ? undefined : { mode });
    // writeFile's mode is filtered by the umask; a secret's file must be exactly this
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new ImgxError("IO", `Cannot write ${q(path)}: ${(e as Error).message}`, { cause: e });
  }
}

/** For archive files: refuses an existing path unless replacing is allowed, and always a directory in the way. */
export function refuseExisting(path: string, existing: "error" | "update"): void {
  if (existing === "error" && existsSync(path))
    throw new ImgxError("DEST_EXISTS", `Cannot write ${q(path)}: it already exists`, { hint: "remove it or pass --force" });
  // checked now, not when the final rename fails after every blob was written
  if (existsSync(path) && statSync(path).isDirectory())
    throw new ImgxError("DEST_EXISTS", `Cannot write archive ${q(path)}: a directory is in the way`);
  if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory())
    throw new ImgxError("IO", `Cannot write ${q(path)}: directory ${q(dirname(path))} does not exist`);
}

export function ioError(action: string, path: string, e: unknown): ImgxError {
  return new ImgxError("IO", `Cannot ${action} ${q(path)}: ${(e as Error).message}`, { cause: e });
}
