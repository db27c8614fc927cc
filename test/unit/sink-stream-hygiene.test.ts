// Sinks read or cancel every stream handed to them, even when they can no longer write it.
import { afterAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sha256Bytes } from "../../src/core/digest.ts";
import { ImgxError, isImgxError } from "../../src/core/errors.ts";
import { openDockerArchiveSink } from "../../src/transports/docker-archive/index.ts";
import { openOciArchiveSink } from "../../src/transports/oci-archive/index.ts";
import { openOciLayoutSink } from "../../src/transports/oci-layout/index.ts";
import type { BlobInput } from "../../src/transports/types.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-hygiene-");
afterAll(t.cleanup);

/** A blob whose stream records whether it was cancelled; `fail` makes it error after one chunk. */
function blob(text: string, opts: { fail?: Error; unknownDigest?: boolean } = {}): BlobInput & { cancelled: () => boolean } {
  const bytes = new TextEncoder().encode(text);
  const digest = sha256Bytes(bytes);
  let cancelled = false;
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return opts.fail ? c.error(opts.fail) : c.close();
      sent = true;
      c.enqueue(bytes);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { mediaType: "application/octet-stream", digest: opts.unknownDigest ? undefined : digest, size: bytes.length, stream, result: () => ({ digest, size: bytes.length }), cancelled: () => cancelled };
}

async function error(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => undefined, (e) => e);
}

for (const [kind, open] of [["oci-archive", openOciArchiveSink], ["docker-archive", openDockerArchiveSink]] as const) {
  test(`${kind}: after a failed entry later blobs are cancelled, not left unread`, async () => {
    const sink = await open(join(t.dir, `${kind}.tar`), { existing: "error" });
    const bad = new ImgxError("DIGEST_MISMATCH", "Cannot accept blob: content has digest x");
    expect(await error(sink.putBlob(blob("first", { fail: bad })))).toBe(bad);
    const next = blob("second");
    expect(await error(sink.putBlob(next))).toBe(bad);
    expect(next.cancelled()).toBe(true);
    await sink.abort();
  });

  test(`${kind}: a blob with no digest yet is refused and its stream cancelled`, async () => {
    const sink = await open(join(t.dir, `${kind}-nodigest.tar`), { existing: "error" });
    const b = blob("x", { unknownDigest: true });
    const e = await error(sink.putBlob(b));
    expect(isImgxError(e, "IO")).toBe(true);
    expect(b.cancelled()).toBe(true);
    await sink.abort();
  });
}

test("oci layout: a blob that can't even be opened for writing is cancelled and reported as IO", async () => {
  const dir = join(t.dir, "layout");
  const sink = await openOciLayoutSink(dir, { existing: "update" });
  rmSync(join(dir, "blobs"), { recursive: true });
  const b = blob("y");
  const e = await error(sink.putBlob(b));
  expect(isImgxError(e, "IO")).toBe(true);
  expect(b.cancelled()).toBe(true);
  await sink.abort();
});

test("oci layout: abort after the blobs directory vanished still releases the lock", async () => {
  const dir = join(t.dir, "vanished");
  const sink = await openOciLayoutSink(dir, { existing: "update" });
  rmSync(join(dir, "blobs"), { recursive: true });
  expect(existsSync(join(dir, ".imgx-lock"))).toBe(true);
  await sink.abort(new Error("disk trouble"));
  expect(existsSync(join(dir, ".imgx-lock"))).toBe(false);
});
