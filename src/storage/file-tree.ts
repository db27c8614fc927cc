import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { ImgxError, q } from "../core/errors.ts";
import { indexTar, resolveEntry, safeName, type TarEntry } from "./tar-index.ts";

/** A byte range of a local file. */
export interface BlobFile {
  path: string;
  offset: number;
  size: number;
}

/** Read access to files of an image store, whether a directory or a tar archive. */
export interface FileTree {
  readonly label: string;
  /** Size of a regular file, or undefined when absent. */
  size(path: string): number | undefined;
  stream(path: string, offset?: number): ReadableStream<Uint8Array>;
  readSmall(path: string, max: number): Promise<Uint8Array>;
  /** The first `n` bytes (fewer if the file is shorter), for magic-number sniffing. */
  head(path: string, n: number): Promise<Uint8Array>;
  /** All regular-file paths (for format detection and diagnostics). */
  list(): string[];
  /** Where a regular file's bytes lie on disk: a file of the directory, or a range of the tar. */
  locate(path: string): BlobFile | undefined;
}

async function bounded(blob: Blob, max: number, label: string, path: string): Promise<Uint8Array> {
  if (blob.size > max) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)} in ${label}: ${blob.size} bytes exceeds the ${max}-byte limit`);
  return new Uint8Array(await blob.arrayBuffer());
}

export class DirTree implements FileTree {
  private readonly real: string;
  constructor(readonly root: string) {
    this.real = realpathSync(root);
  }
  get label(): string {
    return this.root;
  }
  /** Resolves a path inside the root; symlinks leading outside it are refused. */
  private file(p: string): string | undefined {
    const name = safeName(p, this.root);
    const full = join(this.root, name);
    if (!existsSync(full)) return undefined;
    const real = realpathSync(full);
    const rel = relative(this.real, real);
    if (rel.startsWith("..") || rel.startsWith(sep)) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(full)}: it links outside ${q(this.root)}`);
    return statSync(real).isFile() ? real : undefined;
  }
  size(p: string): number | undefined {
    const f = this.file(p);
    return f ? statSync(f).size : undefined;
  }
  stream(p: string, offset = 0): ReadableStream<Uint8Array> {
    const f = this.file(p);
    if (!f) throw new ImgxError("NOT_FOUND", `Cannot read ${q(p)} in ${q(this.root)}: no such file`);
    return Bun.file(f).slice(offset).stream();
  }
  locate(p: string): BlobFile | undefined {
    const f = this.file(p);
    return f ? { path: f, offset: 0, size: statSync(f).size } : undefined;
  }
  async readSmall(p: string, max: number): Promise<Uint8Array> {
    const f = this.file(p);
    if (!f) throw new ImgxError("NOT_FOUND", `Cannot read ${q(p)} in ${q(this.root)}: no such file`);
    return bounded(Bun.file(f), max, this.root, p);
  }
  async head(p: string, n: number): Promise<Uint8Array> {
    const f = this.file(p);
    if (!f) throw new ImgxError("NOT_FOUND", `Cannot read ${q(p)} in ${q(this.root)}: no such file`);
    return new Uint8Array(await Bun.file(f).slice(0, n).arrayBuffer());
  }
  list(): string[] {
    // regular files only, as the tar tree lists them; symlinks count when they resolve inside the root
    const names = readdirSync(this.root, { recursive: true, encoding: "utf8" }).map((n) => n.split(sep).join("/"));
    return names.filter((n) => {
      try {
        return this.file(n) !== undefined;
      } catch {
        return false;
      }
    });
  }
}

export class TarTree implements FileTree {
  private readonly entries: Map<string, TarEntry>;
  /** `file` is read; `path` names the archive in messages (they differ for a decompressed spool). */
  constructor(
    readonly path: string,
    private readonly file = path,
  ) {
    this.entries = indexTar(file, path);
  }
  get label(): string {
    return this.path;
  }
  private entry(p: string): TarEntry | undefined {
    return resolveEntry(this.entries, posix.normalize(safeName(p, this.path)), this.path);
  }
  size(p: string): number | undefined {
    return this.entry(p)?.size;
  }
  stream(p: string, offset = 0): ReadableStream<Uint8Array> {
    const e = this.entry(p);
    if (!e) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(p)} in ${q(this.path)}: no such entry`);
    return Bun.file(this.file).slice(e.offset + offset, e.offset + e.size).stream();
  }
  locate(p: string): BlobFile | undefined {
    const e = this.entry(p);
    return e && e.type === "file" ? { path: this.file, offset: e.offset, size: e.size } : undefined;
  }
  async readSmall(p: string, max: number): Promise<Uint8Array> {
    const e = this.entry(p);
    if (!e) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(p)} in ${q(this.path)}: no such entry`);
    return bounded(Bun.file(this.file).slice(e.offset, e.offset + e.size), max, this.path, p);
  }
  async head(p: string, n: number): Promise<Uint8Array> {
    const e = this.entry(p);
    if (!e) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(p)} in ${q(this.path)}: no such entry`);
    return new Uint8Array(await Bun.file(this.file).slice(e.offset, e.offset + Math.min(n, e.size)).arrayBuffer());
  }
  list(): string[] {
    return [...this.entries.values()].filter((e) => e.type === "file").map((e) => e.name);
  }
  has(p: string): boolean {
    return this.entry(p) !== undefined;
  }
}
