import { describe, expect, test } from "bun:test";
import { arrivalsBefore, dueAt } from "../../src/bench/arrivals.ts";
import { PushBodies } from "../../src/bench/body.ts";
import { decodeHistogram, encodeHistogram, newHistogram, percentiles, recordMs } from "../../src/bench/histogram.ts";
import { parseMix } from "../../src/bench/scenarios.ts";
import { shareOf } from "../../src/bench/scheduler.ts";
import { durationMs, parseShard } from "../../src/cli/commands/bench-flags.ts";

describe("bench building blocks", () => {
  test("histograms survive base64 and add exactly", () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(a, i / 10);
    for (let i = 1; i <= 500; i++) recordMs(b, 100 + i);
    const a2 = decodeHistogram(encodeHistogram(a), "a");
    expect(a2.totalCount).toBe(1000);
    expect(percentiles(a2)).toEqual(percentiles(a));
    a2.add(decodeHistogram(encodeHistogram(b), "b"));
    expect(a2.totalCount).toBe(1500);
    // 1000 values ≤ 100 ms and 500 above: the 2/3 point separates them
    expect(a2.getValueAtPercentile(66)).toBeLessThanOrEqual(100_100);
    expect(a2.getValueAtPercentile(67)).toBeGreaterThan(100_000);
    expect(() => decodeHistogram("not base64 hdr", "x.json")).toThrow(/x\.json/);
  });

  test("open-model schedule: constant rate, linear ramp, shards interleave to the global schedule", () => {
    const s = { rate: 100, rampMs: 0 };
    expect(dueAt(s, 0)).toBe(0);
    expect(dueAt(s, 100)).toBeCloseTo(1000);
    expect(arrivalsBefore(s, 1000)).toBe(100);
    const r = { rate: 100, rampMs: 10_000 };
    // during a 10 s ramp to 100/s, 500 operations are due (half of full rate)
    expect(arrivalsBefore(r, 10_000)).toBe(500);
    expect(arrivalsBefore(r, 20_000)).toBe(1500);
    for (const j of [1, 10, 499, 500, 501, 1499]) expect(arrivalsBefore(r, dueAt(r, j) + 1e-6)).toBe(j + 1);
    expect(shareOf(10, { index: 0, of: 3 }) + shareOf(10, { index: 1, of: 3 }) + shareOf(10, { index: 2, of: 3 })).toBe(10);
    expect(shareOf(10, { index: 0, of: 3 })).toBe(4);
  });

  test("push bodies: digest matches the streamed bytes, unique per id, pattern shared", async () => {
    const b = new PushBodies(100_000, 7);
    const l1 = b.layer("run op1 0");
    const l2 = b.layer("run op2 0");
    expect(l1.digest).not.toBe(l2.digest);
    const bytes = new Uint8Array(await new Response(b.stream(l1)).arrayBuffer());
    expect(bytes.byteLength).toBe(100_000);
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`).toBe(l1.digest);
    // a sub-range (a chunked PATCH) is exactly that slice of the same bytes
    const part = new Uint8Array(await new Response(b.stream(l1, 99_900, 100_000)).arrayBuffer());
    expect(part).toEqual(bytes.subarray(99_900));
    expect(() => new PushBodies(10, 1)).toThrow(/at least 64 bytes/);
  });

  test("flag parsing: durations, shards, mixes", () => {
    expect(durationMs("1.5s", "d")).toBe(1500);
    expect(durationMs("250ms", "d")).toBe(250);
    expect(durationMs("2m", "d")).toBe(120_000);
    expect(durationMs("3", "d")).toBe(3000);
    expect(() => durationMs("soon", "duration")).toThrow(/--duration "soon"/);
    expect(parseShard("2/4")).toEqual({ index: 2, of: 4 });
    expect(() => parseShard("4/4")).toThrow(/0 <= I < N/);
    expect(parseMix("pull=70,push=20,head=10").map((m) => m.weight)).toEqual([0.7, 0.2, 0.1]);
    expect(() => parseMix("pull=1,delete=2")).toThrow(/--mix/);
  });
});
