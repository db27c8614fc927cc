import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { DigestCounter } from "../../core/digest.ts";
import { ImgxError, isIntegrityError, q } from "../../core/errors.ts";
import type { Descriptor } from "../../core/manifest.ts";
import { ioError, tempSibling, writeFileAtomic } from "../../storage/atomic.ts";
import { DirTree } from "../../storage/file-tree.ts";
import { IndexEntries, OCI_LAYOUT_BYTES } from "../../storage/oci-index-writer.ts";
import { OciLayoutReader } from "../../storage/oci-layout-reader.ts";
import type { BlobInput, FileTarget, ImageSink, SinkCaps } from "../types.ts";
import { lockLayout } from "./lock.ts";
import { BLOBS_DIR, blobPath } from "../../storage/layout-names.ts";
import type { ImageName } from "../../core/reference.ts";

/**
 * Writes an OCI layout. A new layout made by convert is built in a temp dir and renamed at commit;
 * pulling into a layout (update mode) writes in place so an interrupted run leaves resumable
 * `<hex>.partial` files; index.json is always written last, atomically.
 */
export class OciLayoutSink implements ImageSink {
  readonly caps: SinkCaps = { maxConcurrentWrites: 8, acceptsIndex: true, needsKnownSize: false, family: "oci", multiImage: true, referrers: true };
  private constructor(
    readonly path: string,
    private readonly root: string,
    private readonly inPlace: boolean,
    private readonly createdDir: boolean,
    private readonly index: IndexEntries,
    private readonly unlock: () => void,
  ) {}

  get label(): string {
    return `oci:${this.path}`;
  }

  static async open(path: string, existing: "error" | "update"): Promise<OciLayoutSink> {
    const exists = existsSync(path);
    if (exists && existing === "error") throw new ImgxError("DEST_EXISTS", `Cannot write ${q(path)}: it already exists`, { hint: "remove it or pass --force" });
    if (exists && !statSync(path).isDirectory()) throw new ImgxError("DEST_EXISTS", `Cannot write OCI layout ${q(path)}: a file is in the way`);
    if (!exists && existing === "error") {
      const tmp = tempSibling(path);
      mkdirSync(join(tmp, BLOBS_DIR), { recursive: true });
      return new OciLayoutSink(path, tmp, false, true, new IndexEntries(), () => {});
    }
    let old: Descriptor[] = [];
    if (exists) {
      const hasLayout = existsSync(join(path, "oci-layout"));
      if (!hasLayout && readdirSync(path).length > 0) throw new ImgxError("DEST_EXISTS", `Cannot write OCI layout into ${q(path)}: the directory is not empty and has no oci-layout file`);
      if (hasLayout && existsSync(join(path, "index.json"))) old = (await OciLayoutReader.open(new DirTree(path))).index.manifests;
    }
    mkdirSync(join(path, BLOBS_DIR), { recursive: true });
    const unlock = lockLayout(path);
    try {
      if (!existsSync(join(path, "oci-layout"))) await writeFileAtomic(join(path, "oci-layout"), OCI_LAYOUT_BYTES);
    } catch (e) {
      unlock();
      throw e;
    }
    return new OciLayoutSink(path, path, true, !exists, new IndexEntries(old), unlock);
  }

  private blobFile(digest: string): string {
    return join(this.root, blobPath(digest));
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    const f = this.blobFile(desc.digest);
    return existsSync(f) && statSync(f).size === desc.size;
  }

  async partialBlob(desc: Descriptor): Promise<{ offset: number; hashed: DigestCounter } | undefined> {
    if (!this.inPlace) return undefined;
    const f = `${this.blobFile(desc.digest)}.partial`;
    if (!existsSync(f)) return undefined;
    const hashed = new DigestCounter();
    for await (const chunk of Bun.file(f).stream()) hashed.update(chunk);
    return hashed.size > 0 && hashed.size < desc.size ? { offset: hashed.size, hashed } : undefined;
  }

  /** Set by abort (possibly from a signal handler while the copy still runs): nothing is written after it. */
  private aborted = false;
  private readonly stopped = new AbortController();
  private checkNotAborted(): void {
    if (this.aborted) throw this.abortError();
  }
  private abortError(): ImgxError {
    return new ImgxError("IO", `Cannot write ${q(this.path)}: the copy was aborted`);
  }

  async putBlob(blob: BlobInput): Promise<void> {
    if (this.aborted) await blob.stream.cancel().catch(() => {});
    this.checkNotAborted();
    // Known digests get a stable partial name so a later run can resume; unknown ones a random temp.
    const temp = blob.digest && this.inPlace ? `${this.blobFile(blob.digest)}.partial` : join(this.root, BLOBS_DIR, `.tmp-${crypto.randomUUID()}`);
    const fh = await open(temp, blob.offset ? "a" : "w").catch(async (e) => {
      await blob.stream.cancel().catch(() => {});
      throw ioError("write", temp, e);
    });
    try {
      for await (const chunk of blob.stream) {
        this.checkNotAborted(); // stops reading (cancels) mid-blob; a pull keeps a resumable partial
        // a disk error (ENOSPC, EIO) is an IO failure of this layout, not of the source
        await fh.write(chunk).catch((e) => {
          throw ioError("write a blob into", this.path, e);
        });
      }
      await fh.close();
    } catch (e) {
      await fh.close().catch(() => {});
      // Bytes that failed verification are never kept; a broken connection leaves a resumable partial.
      const keep = this.inPlace && blob.digest && !isIntegrityError(e);
      if (!keep) await rm(temp, { force: true });
      throw e;
    }
    // after an abort a new layout's temp dir is gone; in place, a verified blob may still be kept
    if (this.aborted && !this.inPlace) {
      await rm(temp, { force: true });
      this.checkNotAborted();
    }
    await this.publish(temp, blob.result().digest);
    this.checkNotAborted();
  }

  /** Puts a verified temp file in place under its digest; the temp never outlives a failure. */
  private async publish(temp: string, digest: Descriptor["digest"]): Promise<void> {
    const final = this.blobFile(digest);
    await rename(temp, final).catch(async (e) => {
      await rm(temp, { force: true });
      throw ioError("write", final, e);
    });
  }

  async fileTarget(desc: Descriptor): Promise<FileTarget | undefined> {
    this.checkNotAborted();
    const temp = join(this.root, BLOBS_DIR, `.tmp-${crypto.randomUUID()}`);
    return {
      path: temp,
      label: `blob ${desc.digest} in ${this.path}`,
      signal: this.stopped.signal,
      keep: async (digest) => {
        if (this.aborted) await rm(temp, { force: true });
        this.checkNotAborted();
        await this.publish(temp, digest);
      },
      discard: () => rm(temp, { force: true }),
    };
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, names: readonly ImageName[], top: boolean): Promise<void> {
    this.checkNotAborted();
    const f = this.blobFile(desc.digest);
    if (!existsSync(f)) await writeFileAtomic(f, bytes);
    if (top) this.index.add(desc, names);
  }

  /**
   * Writes index.json as it stands without finishing (in-place layouts only): a long-running writer
   * (sync into a bundle) records each finished image, so an interrupted run keeps what it did.
   */
  async flush(): Promise<void> {
    this.checkNotAborted();
    if (this.inPlace) await writeFileAtomic(join(this.root, "index.json"), this.index.bytes());
  }

  async commit(): Promise<void> {
    this.checkNotAborted();
    await writeFileAtomic(join(this.root, "index.json"), this.index.bytes());
    if (!this.inPlace) {
      await writeFileAtomic(join(this.root, "oci-layout"), OCI_LAYOUT_BYTES);
      try {
        await rename(this.root, this.path);
      } catch (e) {
        await rm(this.root, { recursive: true, force: true });
        throw ioError("create", this.path, e);
      }
    }
    this.unlock();
  }

  async abort(cause?: unknown): Promise<void> {
    this.aborted = true;
    this.stopped.abort(this.abortError());
    if (!this.inPlace) {
      rmSync(this.root, { recursive: true, force: true });
      return;
    }
    const dir = join(this.root, BLOBS_DIR);
    // abort runs after failures, possibly of the disk or of the directory itself: never throw, always unlock
    const list = () => (existsSync(dir) ? readdirSync(dir) : []);
    try {
      for (const f of list()) if (f.startsWith(".tmp-")) rmSync(join(dir, f), { force: true });
    } catch {}
    this.unlock();
    // A directory this run created goes away when nothing in it is worth resuming, or the data was bad.
    const integrity = isIntegrityError(cause);
    try {
      if (this.createdDir && !existsSync(join(this.root, "index.json")) && (integrity || list().length === 0)) rmSync(this.root, { recursive: true, force: true });
    } catch {}
  }
}
