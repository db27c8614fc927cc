// The page's grouping of an archive's images into what it offers (src/serve/page/platforms.js).
import { describe, expect, test } from "bun:test";
// @ts-ignore: the page's browser module (plain JS)
import { choicesOf, indexUpload, platformSpec, withIndexPlatforms } from "../../src/serve/page/platforms.js";

const layer = (n: number, gzip = true) => ({ expect: `sha256:${String(n).padStart(64, "0")}`, size: 10 * n, gzip, compression: "gzip" });
const img = (names: string[], platform: string, layers: number[], extra: object = {}) => ({ names, platform, layers: layers.map((n) => layer(n)), format: "docker", config: { os: platform.split("/")[0], architecture: platform.split("/")[1], variant: platform.split("/")[2] }, ...extra });
const kinds = (cs: any[]) => cs.map((c) => (c.kind === "all" ? `all ${c.images.map((i: any) => i.platform).join(",")}` : `one ${c.image.platform}`));

describe("serve page: multi-platform choices", () => {
  test("docker-save entries with the same tags and different platforms form one set; other tags stay alone", () => {
    const cs = choicesOf([img(["a:1"], "linux/amd64", [1, 2]), img(["b:1"], "linux/amd64", [3]), img(["a:1"], "linux/arm/v7", [1, 4])]);
    expect(kinds(cs)).toEqual(["all linux/amd64,linux/arm/v7", "one linux/amd64", "one linux/arm/v7", "one linux/amd64"]);
    expect(cs[0].form).toBe("docker");
    const plan = indexUpload(cs[0]);
    expect(plan.layers.map((l: any) => l.size)).toEqual([10, 20, 40]);
    expect(plan.platforms.map((p: any) => p.slots)).toEqual([[0, 1], [0, 2]]);
    expect(platformSpec(cs[0].images[1])).toEqual({ architecture: "arm", os: "linux", variant: "v7" });
  });

  test("same tags and the same platform are two images, not a set; untagged images never group", () => {
    expect(kinds(choicesOf([img(["a:1"], "linux/amd64", [1]), img(["a:1"], "linux/amd64", [2])]))).toEqual(["one linux/amd64", "one linux/amd64"]);
    expect(kinds(choicesOf([img([], "linux/amd64", [1]), img([], "linux/arm64", [2])]))).toEqual(["one linux/amd64", "one linux/arm64"]);
  });

  test("Docker 25+: the index's platforms replace the one manifest.json names; images it does not cover stay", () => {
    const set = { key: "sha256:idx", form: "docker", names: ["x:1"], skipped: [] };
    const fromIndex = [img(["x:1"], "linux/amd64", [1, 2], { set }), img(["x:1"], "linux/arm64", [1, 3], { set })];
    const saved = [img(["x:1"], "linux/amd64", [1, 2]), img(["y:1"], "linux/amd64", [5])];
    expect(withIndexPlatforms(saved, fromIndex).map((i: any) => `${i.names} ${i.platform}`)).toEqual(["x:1 linux/amd64", "x:1 linux/arm64", "y:1 linux/amd64"]);
    // an index with a single complete platform adds nothing: manifest.json's images as they were
    expect(withIndexPlatforms(saved, fromIndex.slice(0, 1))).toBe(saved);
  });
});
