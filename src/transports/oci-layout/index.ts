import { existsSync, statSync } from "node:fs";
import { ImgxError, q } from "../../core/errors.ts";
import { DirTree } from "../../storage/file-tree.ts";
import { OciLayoutReader } from "../../storage/oci-layout-reader.ts";
import type { ImageSink, ImageSource } from "../types.ts";
import { OciLayoutSink } from "./sink.ts";

export async function openOciLayoutSource(path: string, name?: string): Promise<ImageSource> {
  if (!existsSync(path)) throw new ImgxError("NOT_FOUND", `Cannot read OCI layout ${q(path)}: no such directory`);
  if (!statSync(path).isDirectory()) throw new ImgxError("BAD_ARCHIVE", `Cannot read OCI layout ${q(path)}: not a directory (use oci-archive: for a tar)`);
  const reader = await OciLayoutReader.open(new DirTree(path));
  return {
    label: `oci:${path}`,
    images: async () => reader.images(name),
    manifest: (d) => reader.manifest(d),
    blob: async (d) => reader.blob(d),
    blobFrom: async (d, offset) => ({ stream: reader.blob(d, offset) }),
    blobFile: (d) => reader.blobFile(d),
    referrers: (d) => reader.referrers(d),
    close: async () => {},
  };
}

export async function openOciLayoutSink(path: string, opts: { existing: "error" | "update" }): Promise<ImageSink> {
  return OciLayoutSink.open(path, opts.existing);
}

/** A layout written in place by many copies (sync's air-gap bundle): names "repo:tag" kept as given in ref.name, index.json flushed as images finish. */
export async function openOciLayoutBundle(path: string): Promise<ImageSink & { flush(): Promise<void> }> {
  return OciLayoutSink.open(path, "update");
}
