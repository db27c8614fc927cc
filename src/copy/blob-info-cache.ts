import { mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Digest } from "../core/digest.ts";
import { writeFileAtomic } from "../storage/atomic.ts";

/**
 * Remembers what a layer became when imgx compressed it (uncompressed digest + algorithm →
 * compressed digest and size), so pushing the same docker-save again can HEAD the compressed blob
 * instead of compressing and uploading it again (gzip output is not reproducible byte for byte).
 * Like containers/image's blob info cache; a lost or corrupt cache only costs a re-upload.
 */
export class BlobInfoCache {
  private data: Record<string, { digest: Digest; size: number }> = {};
  private dirty = false;
  constructor(private readonly path = defaultPath()) {
    try {
      this.data = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      this.data = {};
    }
  }
  get(uncompressed: Digest, algo: string): { digest: Digest; size: number } | undefined {
    return this.data[`${uncompressed}>${algo}`];
  }
  set(uncompressed: Digest, algo: string, out: { digest: Digest; size: number }): void {
    this.data[`${uncompressed}>${algo}`] = out;
    this.dirty = true;
  }
  async save(): Promise<void> {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const entries = Object.entries(this.data).slice(-5000);
      await writeFileAtomic(this.path, JSON.stringify(Object.fromEntries(entries)));
    } catch {
      /* a cache that can't be written is only a missed optimisation */
    }
  }
}

function defaultPath(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "imgx", "blob-info.json");
}
