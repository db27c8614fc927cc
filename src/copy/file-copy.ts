import type { Digest } from "../core/digest.ts";
import { ImgxError, q } from "../core/errors.ts";
import { checkHashed } from "../core/verify.ts";
import type { BlobFile } from "../transports/types.ts";
import { WorkerPools, WorkerTaskError } from "./worker-pool.ts";

/**
 * The worker reads the byte range, hashes each chunk and writes that same chunk: one pass, like the
 * verify stream, but off the main thread so several blobs hash on several cores at once. Progress
 * is posted every 8 MiB. A range that ends early is reported with the bytes it had. `stop` is a
 * shared flag the main thread raises to end the copy between chunks.
 */
const FILE_COPY_WORKER_SOURCE = `
import { openSync, readSync, writeSync, closeSync } from "node:fs";
const CHUNK = 1 << 20;
const buf = new Uint8Array(CHUNK);
self.onmessage = (e) => {
  const { path, offset, size, dest, stop } = e.data;
  let fi, fo, phase = "read";
  try {
    fi = openSync(path, "r");
    phase = "write";
    fo = openSync(dest, "w");
    const h = new Bun.CryptoHasher("sha256");
    let done = 0, told = 0;
    while (done < size) {
      if (Atomics.load(stop, 0) !== 0) throw new Error("stopped");
      phase = "read";
      const n = readSync(fi, buf, 0, Math.min(CHUNK, size - done), offset + done);
      if (n <= 0) break;
      const chunk = buf.subarray(0, n);
      h.update(chunk);
      phase = "write";
      let w = 0;
      while (w < n) w += writeSync(fo, chunk, w, n - w);
      done += n;
      if (done - told >= 8 << 20) { self.postMessage({ progress: done - told }); told = done; }
    }
    phase = "write";
    closeSync(fo);
    fo = undefined;
    if (done > told) self.postMessage({ progress: done - told });
    self.postMessage({ result: { digest: "sha256:" + h.digest("hex"), size: done } });
  } catch (err) {
    self.postMessage({ error: { message: phase + ": " + err.message, code: err.code } });
  } finally {
    try { if (fi !== undefined) closeSync(fi); } catch {}
    try { if (fo !== undefined) closeSync(fo); } catch {}
  }
};
`;

/**
 * Copies a blob that lies as plain bytes in a local file into `dest`, verifying digest and size as
 * the verify stream does (checkHashed), on a worker thread of `pools` (one per core, shared by all
 * blobs of a copy); without `pools`, on a worker of its own that ends with the copy.
 */
export async function copyFileVerified(
  file: BlobFile,
  dest: { path: string; label: string; signal: AbortSignal },
  expected: { digest: Digest; size: number },
  what: string,
  onBytes: (n: number) => void,
  pools?: WorkerPools,
): Promise<{ digest: Digest; size: number }> {
  const own = pools ? undefined : new WorkerPools();
  const pool = (pools ?? own!).get<{ path: string; offset: number; size: number; dest: string; stop: Int32Array }, { digest: Digest; size: number }>(FILE_COPY_WORKER_SOURCE);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const raise = () => Atomics.store(stop, 0, 1);
  dest.signal.addEventListener("abort", raise);
  let r: { digest: Digest; size: number };
  try {
    r = await pool.run({ path: file.path, offset: file.offset, size: expected.size, dest: dest.path, stop }, [], onBytes);
  } catch (e) {
    // whatever the worker saw after the destination was aborted (a vanished temp dir), the abort is the cause
    if (dest.signal.aborted) throw dest.signal.reason;
    if (!(e instanceof WorkerTaskError)) throw e;
    const [phase, ...rest] = e.message.split(": ");
    const detail = rest.join(": ");
    if (phase === "read") throw new ImgxError("IO", `Cannot read ${what}: ${q(file.path)}: ${detail}`, { cause: e });
    throw new ImgxError("IO", `Cannot write ${dest.label}: ${detail}`, { cause: e });
  } finally {
    dest.signal.removeEventListener("abort", raise);
    own?.close();
  }
  checkHashed(r, expected, what);
  return r;
}
