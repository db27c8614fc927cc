import { describe, expect, test } from "bun:test";
import { parseConfigBytes, parseManifestBytes } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { isImgxError } from "../../src/core/errors.ts";

const enc = (o: unknown) => new TextEncoder().encode(typeof o === "string" ? o : JSON.stringify(o));
const d = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = { schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: d("a"), size: 10 }, layers: [{ mediaType: MT.ociLayerGzip, digest: d("b"), size: 20 }] };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isImgxError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

describe("manifest parsing", () => {
  test("OCI manifest", () => {
    const p = parseManifestBytes(enc(manifest), "m");
    expect(p.kind).toBe("manifest");
    if (p.kind === "manifest") expect(p.manifest.layers[0]!.size).toBe(20);
  });
  test("index without mediaType is recognised by shape", () => {
    const p = parseManifestBytes(enc({ schemaVersion: 2, manifests: [{ mediaType: MT.ociManifest, digest: d("c"), size: 5, platform: { os: "linux", architecture: "amd64" } }] }), "i");
    expect(p.kind).toBe("index");
  });
  test("errors name the field", () => {
    expect(code(() => parseManifestBytes(enc("{nope"), "m.json"))).toContain("BAD_MANIFEST: Cannot parse m.json: not valid JSON");
    expect(code(() => parseManifestBytes(enc({ ...manifest, layers: [{ ...manifest.layers[0], size: -1 }] }), "m"))).toContain("size must be");
    expect(code(() => parseManifestBytes(enc({ ...manifest, config: { ...manifest.config, digest: "sha256:xyz" } }), "m"))).toContain("config digest");
    expect(code(() => parseManifestBytes(enc({ ...manifest, mediaType: "application/x-unknown" }), "m"))).toContain("UNSUPPORTED");
    expect(code(() => parseManifestBytes(enc({ schemaVersion: 1, name: "x", fsLayers: [] }), "m"))).toContain("schema 1");
    expect(code(() => parseManifestBytes(enc(manifest), "m", MT.ociIndex))).toContain("served as");
    expect(code(() => parseManifestBytes(enc("[".repeat(100) + "]".repeat(100)), "deep"))).toContain("nested deeper");
  });
  test("config", () => {
    const c = parseConfigBytes(enc({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [d("e")] } }), "c");
    expect(c.rootfs.diff_ids).toEqual([d("e")] as never);
    expect(code(() => parseConfigBytes(enc({ os: "linux", architecture: "amd64" }), "c"))).toContain("rootfs");
  });
});
