// The worker-thread copy of a blob lying as plain bytes in a local file: verified like the verify
// stream, errors named, stoppable; and the pool under it queues work beyond its size.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sha256Bytes } from "../../src/core/digest.ts";
import { copyFileVerified } from "../../src/copy/file-copy.ts";
import { createWorkerPool } from "../../src/copy/worker-pool.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-filecopy-");
afterAll(t.cleanup);

// 20 MiB of varied bytes with a 1000-byte header in front, as a tar entry lies in its archive
const body = new Uint8Array(20 * 2 ** 20).map((_, i) => (i * 2654435761) >>> 24);
const src = join(t.dir, "src.bin");
writeFileSync(src, Buffer.concat([Buffer.alloc(1000, 7), body, Buffer.alloc(500, 9)]));
const expected = { digest: sha256Bytes(body), size: body.length };
const target = (name: string, signal = new AbortController().signal) => ({ path: join(t.dir, name), label: `test blob ${name}`, signal });

test("copies the range, hashing it on the way, and reports progress up to the size", async () => {
  let seen = 0;
  const r = await copyFileVerified({ path: src, offset: 1000, size: body.length }, target("ok"), expected, "blob under test", (n) => (seen += n));
  expect(r).toEqual(expected);
  expect(seen).toBe(body.length);
  expect(sha256Bytes(readFileSync(join(t.dir, "ok")))).toBe(expected.digest);
});

test("bytes that hash differently fail with DIGEST_MISMATCH naming both digests", async () => {
  const err = await copyFileVerified({ path: src, offset: 999, size: body.length }, target("shifted"), expected, "blob under test", () => {}).catch((e) => e);
  expect(err.code).toBe("DIGEST_MISMATCH");
  expect(err.message).toContain("blob under test");
  expect(err.message).toContain(expected.digest);
});

test("a range running past the file's end fails with SIZE_MISMATCH", async () => {
  const err = await copyFileVerified({ path: src, offset: 1000 + body.length - 10, size: body.length }, target("short"), expected, "blob under test", () => {}).catch((e) => e);
  expect(err.code).toBe("SIZE_MISMATCH");
  expect(err.message).toContain("got 510");
});

test("a source that can't be read and a destination that can't be written are IO errors naming them", async () => {
  const missing = await copyFileVerified({ path: join(t.dir, "nope"), offset: 0, size: 10 }, target("x"), expected, "blob under test", () => {}).catch((e) => e);
  expect(missing.code).toBe("IO");
  expect(missing.message).toContain("nope");
  expect(missing.message).toContain("blob under test");
  const noDir = await copyFileVerified({ path: src, offset: 1000, size: body.length }, target("no/such/dir"), expected, "blob under test", () => {}).catch((e) => e);
  expect(noDir.code).toBe("IO");
  expect(noDir.message).toContain("test blob no/such/dir");
});

test("an abort stops the copy between chunks and its reason is what the caller sees", async () => {
  // The worker must still be copying when the abort arrives, whatever the machine's load: a 20 MiB
  // file could be copied to its end before a busy main thread saw the first progress message (the
  // copy then rightly succeeded and this test failed). /dev/zero never ends (1 TiB would take
  // minutes), so only the abort can end this copy; /dev/null takes the bytes without filling a disk.
  const stopper = new AbortController();
  const reason = new Error("sink aborted");
  const endless = { digest: expected.digest, size: 2 ** 40 };
  const sink = { path: "/dev/null", label: "test blob /dev/null", signal: stopper.signal };
  let seen = 0;
  const p = copyFileVerified({ path: "/dev/zero", offset: 0, size: endless.size }, sink, endless, "blob under test", (n) => {
    seen += n;
    stopper.abort(reason);
  });
  expect(await p.catch((e) => e)).toBe(reason);
  expect(seen).toBeGreaterThan(0);
  expect(seen).toBeLessThan(endless.size);
}, 10_000);

test("the pool runs more tasks than it has workers, at most its size at once, and a worker that dies fails only its task", async () => {
  // Each task counts itself in memory the workers share, then waits at a gate the test opens: so
  // the test sees the pool full (two running) whatever the load, instead of hoping two 100 ms
  // timers overlap while a slow second worker boots.
  const pool = createWorkerPool<{ active: Int32Array; gate: Int32Array; die?: boolean }, number>(
    `self.onmessage = (e) => {
      const { active, gate, die } = e.data;
      if (die) throw new Error("boom");
      const atStart = Atomics.add(active, 0, 1) + 1;
      Atomics.wait(gate, 0, 0, 20000);
      const atEnd = Atomics.load(active, 0);
      Atomics.sub(active, 0, 1);
      self.postMessage({ result: Math.max(atStart, atEnd) });
    };`,
    2,
  );
  const active = new Int32Array(new SharedArrayBuffer(4));
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const runs = [1, 2, 3, 4, 5].map(() => pool.run({ active, gate }));
  for (const deadline = Date.now() + 15_000; Atomics.load(active, 0) < 2 && Date.now() < deadline; ) await Bun.sleep(5);
  expect(Atomics.load(active, 0)).toBe(2);
  await Bun.sleep(100); // a pool that ignored its size would have started a third task by now
  expect(Atomics.load(active, 0)).toBe(2);
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  const seen = await Promise.all(runs);
  expect(seen).toHaveLength(5);
  expect(Math.max(...seen)).toBe(2);
  const died = await pool.run({ active, gate, die: true }).catch((e) => e);
  expect(died.message).toContain("boom");
  expect(await pool.run({ active, gate })).toBe(1); // a fresh worker takes the next task
});

test("a file the worker may not read is reported, not hung on", async () => {
  if (process.getuid?.() === 0) {
    // root reads anything; a directory in place of the file makes open() fail instead
    const err = await copyFileVerified({ path: t.dir, offset: 0, size: 10 }, target("y"), expected, "blob under test", () => {}).catch((e) => e);
    expect(err.code).toBe("IO");
    return;
  }
  const locked = join(t.dir, "locked");
  writeFileSync(locked, "x");
  chmodSync(locked, 0);
  const err = await copyFileVerified({ path: locked, offset: 0, size: 1 }, target("z"), expected, "blob under test", () => {}).catch((e) => e);
  expect(err.code).toBe("IO");
  expect(existsSync(join(t.dir, "z"))).toBe(false);
});
