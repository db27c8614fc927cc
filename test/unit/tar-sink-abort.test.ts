// A tar sink being written keeps the event loop turning, so Ctrl-C (sink.abort from a signal
// handler) lands mid-copy and leaves no archive behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bigSave } from "../../fixtures/generate.ts";
import { copyImages } from "../../src/copy/pipeline.ts";
import { openSink, openSource } from "../../src/transports/open.ts";
import { parseTransportRef } from "../../src/transports/parse.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-tarabort-");
const big = join(t.dir, "big.tar");
beforeAll(() => bigSave(256, big), 60_000);
afterAll(t.cleanup);

for (const kind of ["docker-archive", "oci-archive"]) {
  test(`${kind}: an abort from a timer mid-copy wins; nothing is left`, async () => {
    const out = join(t.dir, `${kind}-out.tar`);
    const source = await openSource(parseTransportRef(big));
    const sink = await openSink(parseTransportRef(`${kind}:${out}`, { forWrite: true }));
    const started = performance.now();
    let firedAfter = -1;
    const timer = setTimeout(() => {
      firedAfter = performance.now() - started;
      void sink.abort();
    }, 20);
    const outcome = await copyImages(source, sink, { platforms: { all: true } }).then(
      () => "committed",
      (e: Error) => e.message,
    );
    clearTimeout(timer);
    await source.close();
    // the timer ran while 256 MiB were being written, not after
    expect(firedAfter).toBeGreaterThan(0);
    expect(firedAfter).toBeLessThan(500);
    expect(outcome).toContain("aborted");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
  }, 60_000);
}

test("oci layout: an abort mid-copy stops the blob being written and nothing is committed afterwards", async () => {
  for (const existing of ["error", "update"] as const) {
    const out = join(t.dir, `layout-${existing}`);
    const source = await openSource(parseTransportRef(big));
    const sink = await openSink(parseTransportRef(`oci:${out}`, { forWrite: true }), { existing });
    const started = performance.now();
    const timer = setTimeout(() => void sink.abort(), 20);
    const outcome = await copyImages(source, sink, { platforms: { all: true } }).then(
      () => "committed",
      (e: Error) => e.message,
    );
    clearTimeout(timer);
    await source.close();
    expect(outcome).toContain("aborted");
    // the blob in flight stopped at the abort instead of being read to its end
    expect(performance.now() - started).toBeLessThan(2000);
    expect(existsSync(join(out, "index.json"))).toBe(false);
    expect(existsSync(join(out, ".imgx-lock"))).toBe(false);
    expect(readdirSync(t.dir).filter((f) => f.includes("imgx-tmp"))).toEqual([]);
  }
}, 60_000);
