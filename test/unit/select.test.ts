// Which children of an index a platform choice keeps (copy/select.ts): the best match for each wanted
// platform, not merely the first that would run; the first of equally good ones; unusable entries
// never picked; a miss names what there is.
import { describe, expect, test } from "bun:test";
import type { Digest } from "../../src/core/digest.ts";
import type { Descriptor, ImageIndex } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { parsePlatform, type Platform } from "../../src/core/platform.ts";
import { selectChildren } from "../../src/copy/select.ts";

let n = 0;
/** A child descriptor with a distinct digest, so a test can say exactly which one was picked. */
function child(platform: Platform | undefined, mediaType: string = MT.ociManifest): Descriptor {
  const digest = `sha256:${(++n).toString(16).padStart(64, "0")}` as Digest;
  return platform ? { mediaType, digest, size: 500 + n, platform } : { mediaType, digest, size: 500 + n };
}
const index = (...manifests: Descriptor[]): ImageIndex => ({ schemaVersion: 2, mediaType: MT.ociIndex, manifests });
const want = (...p: string[]) => ({ all: false as const, platforms: p.map(parsePlatform) });
const pick = (idx: ImageIndex, ...p: string[]) => selectChildren(idx, want(...p), "index under test");

describe("selectChildren: the best match, not the first", () => {
  test("linux/arm (which means arm/v7) takes v7 over a v6 listed before it", () => {
    const v6 = child({ os: "linux", architecture: "arm", variant: "v6" });
    const v7 = child({ os: "linux", architecture: "arm", variant: "v7" });
    expect(pick(index(v6, v7), "linux/arm")).toEqual([v7]);
    expect(pick(index(v6, v7), "linux/arm/v7")).toEqual([v7]);
    expect(pick(index(v7, v6), "linux/arm/v7")).toEqual([v7]);
    // v6 asked for: only v6 runs there (a v7 image does not run on a v6 CPU)
    expect(pick(index(v7, v6), "linux/arm/v6")).toEqual([v6]);
  });

  test("arm/v7 without an exact entry takes the newest older variant it can run: v6 over v5", () => {
    const v5 = child({ os: "linux", architecture: "arm", variant: "v5" });
    const v6 = child({ os: "linux", architecture: "arm", variant: "v6" });
    const v8 = child({ os: "linux", architecture: "arm", variant: "v8" });
    expect(pick(index(v5, v6, v8), "linux/arm/v7")).toEqual([v6]);
    expect(pick(index(v6, v5), "linux/arm/v7")).toEqual([v6]);
  });

  test("no variant asked: a variant-less entry beats variant entries listed before it", () => {
    const v3 = child({ os: "linux", architecture: "amd64", variant: "v3" });
    const v2 = child({ os: "linux", architecture: "amd64", variant: "v2" });
    const plain = child({ os: "linux", architecture: "amd64" });
    expect(pick(index(v3, v2, plain), "linux/amd64")).toEqual([plain]);
    // with no variant-less entry, a variant entry still serves (the first of them)
    expect(pick(index(v3, v2), "linux/amd64")).toEqual([v3]);
    // arm64/v8 is plain arm64: asked either way, the exact entry wins over another variant
    const arm64v8 = child({ os: "linux", architecture: "arm64", variant: "v8" });
    const arm64v9 = child({ os: "linux", architecture: "arm64", variant: "v9" });
    expect(pick(index(arm64v9, arm64v8), "linux/arm64")).toEqual([arm64v8]);
    expect(pick(index(arm64v9, arm64v8), "linux/arm64/v8")).toEqual([arm64v8]);
  });

  test("amd64 among windows entries with os.version: linux/amd64 takes the linux one; windows takes its first", () => {
    const win2019 = child({ os: "windows", architecture: "amd64", "os.version": "10.0.17763.5458" });
    const win2022 = child({ os: "windows", architecture: "amd64", "os.version": "10.0.20348.2322" });
    const linux = child({ os: "linux", architecture: "amd64" });
    expect(pick(index(win2019, win2022, linux), "linux/amd64")).toEqual([linux]);
    expect(pick(index(win2019, win2022, linux), "windows/amd64")).toEqual([win2019]);
    // aliases are compared normalised: x86_64 in the index is amd64
    const aliased = child({ os: "Linux", architecture: "x86_64" });
    expect(pick(index(win2022, aliased), "linux/amd64")).toEqual([aliased]);
  });
});

describe("selectChildren: what is never picked, several platforms, all", () => {
  test("entries without a platform and non-image entries are not candidates", () => {
    const attestation = child({ os: "unknown", architecture: "unknown" });
    const noPlatform = child(undefined);
    const blob = child({ os: "linux", architecture: "amd64" }, MT.ociLayerGzip);
    const amd64 = child({ os: "linux", architecture: "amd64" });
    expect(pick(index(noPlatform, attestation, blob, amd64), "linux/amd64")).toEqual([amd64]);
  });

  test("several wanted platforms keep index order of the wish, and one child is kept once", () => {
    const amd64 = child({ os: "linux", architecture: "amd64" });
    const arm64 = child({ os: "linux", architecture: "arm64" });
    const idx = index(amd64, arm64);
    expect(pick(idx, "linux/arm64", "linux/amd64")).toEqual([arm64, amd64]);
    expect(pick(idx, "linux/arm64", "linux/aarch64", "linux/arm64/v8")).toEqual([arm64]);
  });

  test("a nested index is a candidate like a manifest", () => {
    const nested = child({ os: "linux", architecture: "s390x" }, MT.ociIndex);
    expect(pick(index(nested), "linux/s390x")).toEqual([nested]);
  });

  test("all: every child, non-image entries included, in index order", () => {
    const a = child({ os: "linux", architecture: "amd64" });
    const sig = child(undefined, "application/vnd.example.signature");
    const b = child({ os: "linux", architecture: "arm64" });
    expect(selectChildren(index(a, sig, b), { all: true }, "index under test")).toEqual([a, sig, b]);
  });

  test("no match: PLATFORM_NOT_FOUND naming the wish, the index and what it offers (unknown/unknown counted apart)", () => {
    const idx = index(child({ os: "linux", architecture: "amd64" }), child({ os: "unknown", architecture: "unknown" }), child({ os: "linux", architecture: "arm", variant: "v7" }));
    let err: { code?: string; message?: string; hint?: string } = {};
    try {
      pick(idx, "linux/amd64", "linux/arm/v6");
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe("PLATFORM_NOT_FOUND");
    expect(err.message).toBe("Cannot select platform linux/arm/v6 from index under test: available: linux/amd64, linux/arm/v7 (and 1 entry without a platform)");
    expect(err.hint).toContain("--platform");
    expect(() => pick(index(), "linux/amd64")).toThrow("available: none");
  });
});
