import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DigestCounter, sha256Bytes } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { openOciLayoutSink } from "../../src/transports/oci-layout/index.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir();
afterAll(t.cleanup);

test("two writers of one layout: the second gets LOCKED; a dead owner's lock is taken over", async () => {
  const dir = join(t.dir, "locked");
  await openOciLayoutSink(dir, { existing: "update" });
  // the lock now names this process; make it name another live process (our parent)
  writeFileSync(join(dir, ".imgx-lock"), String(process.ppid));
  const other = await openOciLayoutSink(dir, { existing: "update" }).catch((e) => e);
  expect(isImgxError(other, "LOCKED")).toBe(true);
  expect(other.message).toContain(String(process.ppid));
  writeFileSync(join(dir, ".imgx-lock"), "999999");
  const taken = await openOciLayoutSink(dir, { existing: "update" });
  await taken.commit();
  expect(existsSync(join(dir, ".imgx-lock"))).toBe(false);
});

test("a blob that fails verification leaves no partial; a broken connection leaves a resumable one", async () => {
  const dir = join(t.dir, "partials");
  const sink = await openOciLayoutSink(dir, { existing: "update" });
  const data = new TextEncoder().encode("x".repeat(100_000));
  const digest = sha256Bytes(data);
  const failing = (err: Error) => {
    let sent = false;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent) return c.error(err);
        sent = true;
        c.enqueue(data.subarray(0, 40_000));
      },
    });
  };
  const { ImgxError } = await import("../../src/core/errors.ts");
  const net = new ImgxError("NETWORK", "connection idle");
  await sink.putBlob({ mediaType: "x", digest, size: data.length, stream: failing(net), result: () => ({ digest, size: data.length }) }).catch(() => {});
  const partial = await sink.partialBlob!({ mediaType: "x", digest, size: data.length });
  expect(partial?.offset).toBe(40_000);
  const h = new DigestCounter();
  h.update(data.subarray(0, 40_000));
  expect(partial!.hashed.digest()).toBe(h.digest());
  await sink.putBlob({ mediaType: "x", digest, size: data.length, offset: 40_000, stream: failing(new ImgxError("DIGEST_MISMATCH", "bad")), result: () => ({ digest, size: data.length }) }).catch(() => {});
  expect(readdirSync(join(dir, "blobs", "sha256"))).toEqual([]);
  await sink.abort();
});
