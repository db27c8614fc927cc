import { describe, expect, test } from "bun:test";
import { formatPlatform, normalizePlatform, parsePlatform, platformScore } from "../../src/core/platform.ts";

describe("platform", () => {
  test("normalises aliases", () => {
    expect(formatPlatform(parsePlatform("linux/aarch64"))).toBe("linux/arm64");
    expect(formatPlatform(parsePlatform("linux/arm64/v8"))).toBe("linux/arm64");
    expect(formatPlatform(parsePlatform("linux/arm"))).toBe("linux/arm/v7");
    expect(formatPlatform(parsePlatform("linux/x86_64"))).toBe("linux/amd64");
    expect(formatPlatform(parsePlatform("arm64"))).toBe("linux/arm64");
    expect(normalizePlatform({ os: "Linux", architecture: "armhf" })).toEqual({ os: "linux", architecture: "arm", variant: "v7" });
  });
  test("rejects malformed", () => {
    expect(() => parsePlatform("linux/")).toThrow("os/arch");
    expect(() => parsePlatform("a/b/c/d")).toThrow("os/arch");
  });
  test("scores", () => {
    const want = parsePlatform("linux/arm/v7");
    expect(platformScore(want, { os: "linux", architecture: "arm", variant: "v7" })).toBe(100);
    expect(platformScore(want, { os: "linux", architecture: "arm", variant: "v6" })).toBeGreaterThan(0);
    expect(platformScore(want, { os: "linux", architecture: "arm64" })).toBe(-1);
    expect(platformScore(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v7" })).toBe(-1);
    expect(platformScore(parsePlatform("linux/arm64"), { os: "linux", architecture: "arm64", variant: "v8" })).toBe(100);
    expect(platformScore(parsePlatform("linux/amd64"), { os: "windows", architecture: "amd64" })).toBe(-1);
  });
});
