import { mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../../storage/atomic.ts";

/**
 * Upload sessions in progress, kept on disk so a rerun of an interrupted push asks the registry
 * where each upload stands instead of sending finished bytes again. Keyed by registry, repository
 * and blob digest; entries go away when the blob is committed.
 */
export class UploadState {
  private data?: Record<string, { location: string; at: number }>;
  private writing: Promise<void> = Promise.resolve();
  constructor(private readonly path = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "imgx", "uploads.json")) {}

  private read(): Record<string, { location: string; at: number }> {
    if (!this.data) {
      try {
        this.data = JSON.parse(readFileSync(this.path, "utf8"));
      } catch {
        this.data = {};
      }
    }
    return this.data!;
  }

  get(key: string): string | undefined {
    const e = this.read()[key];
    // registries expire abandoned uploads; a day-old session is not worth a round trip
    return e && Date.now() - e.at < 24 * 3600 * 1000 ? e.location : undefined;
  }

  async set(key: string, location: string | undefined): Promise<void> {
    const all = this.read();
    if (location) all[key] = { location, at: Date.now() };
    else if (key in all) delete all[key];
    else return;
    // one writer at a time: concurrent blob uploads share this file
    this.writing = this.writing.then(async () => {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        await writeFileAtomic(this.path, JSON.stringify(all), 0o600);
      } catch {
        /* losing resume state only costs a re-upload */
      }
    });
    await this.writing;
  }
}
