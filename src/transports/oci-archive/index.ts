import { existsSync } from "node:fs";
import { ImgxError, q } from "../../core/errors.ts";
import { refuseExisting } from "../../storage/atomic.ts";
import { openArchive } from "../../storage/archive-file.ts";
import { OciLayoutReader } from "../../storage/oci-layout-reader.ts";
import type { ImageSink, ImageSource } from "../types.ts";
import { OciArchiveSink } from "./sink.ts";

export async function openOciArchiveSource(path: string, name?: string): Promise<ImageSource> {
  if (path !== "-" && !existsSync(path)) throw new ImgxError("NOT_FOUND", `Cannot read OCI archive ${q(path)}: no such file`);
  const archive = await openArchive(path);
  const reader = await OciLayoutReader.open(archive.tree).catch(async (e) => {
    await archive.close();
    throw e;
  });
  return {
    label: `oci-archive:${path}`,
    images: async () => reader.images(name),
    manifest: (d) => reader.manifest(d),
    blob: async (d) => reader.blob(d),
    blobFrom: async (d, offset) => ({ stream: reader.blob(d, offset) }),
    blobFile: (d) => reader.blobFile(d),
    referrers: (d) => reader.referrers(d),
    close: archive.close,
  };
}

export async function openOciArchiveSink(path: string, opts: { existing: "error" | "update" }): Promise<ImageSink> {
  if (path === "-") throw new ImgxError("UNSUPPORTED", `Cannot write a OCI archive to standard output: name a file instead of "-"`);
  refuseExisting(path, opts.existing);
  return new OciArchiveSink(path);
}
