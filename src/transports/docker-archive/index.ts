import { existsSync } from "node:fs";
import { ImgxError, q } from "../../core/errors.ts";
import { refuseExisting } from "../../storage/atomic.ts";
import type { ImageSink, ImageSource } from "../types.ts";
import { DockerArchiveSink } from "./sink.ts";
import { openDockerArchiveSource as openSource } from "./source.ts";

export async function openDockerArchiveSource(path: string, name?: string): Promise<ImageSource> {
  if (path !== "-" && !existsSync(path)) throw new ImgxError("NOT_FOUND", `Cannot read docker archive ${q(path)}: no such file`);
  return openSource(path, name);
}

export async function openDockerArchiveSink(path: string, opts: { existing: "error" | "update" }): Promise<ImageSink> {
  if (path === "-") throw new ImgxError("UNSUPPORTED", `Cannot write a docker archive to standard output: name a file instead of "-"`);
  refuseExisting(path, opts.existing);
  return new DockerArchiveSink(path);
}
