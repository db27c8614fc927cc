// How names land in an index.json being written (Docker 25's convention) and how they move.
import { expect, test } from "bun:test";
import type { Descriptor } from "../../src/core/manifest.ts";
import { MT } from "../../src/core/media-types.ts";
import { IndexEntries } from "../../src/storage/oci-index-writer.ts";
import { parseImageName } from "../../src/core/reference.ts";

const REF = "org.opencontainers.image.ref.name";
const CTR = "io.containerd.image.name";
const d = (n: number): Descriptor => ({ mediaType: MT.ociManifest, digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 10 + n });
const view = (ix: IndexEntries) => ix.entries.map((e) => [e.digest.slice(7, 8), e.annotations?.[REF], e.annotations?.[CTR]]);

test("full names get ref.name = tag plus the normalised containerd name; bare tags only ref.name", () => {
  const ix = new IndexEntries([], "tag");
  ix.add(d(1), ["app:1.2"].map(parseImageName));
  ix.add(d(2), ["localhost:5000/team/x:v3"].map(parseImageName));
  ix.add(d(3), ["edge"].map(parseImageName));
  expect(view(ix)).toEqual([
    ["1", "1.2", "docker.io/library/app:1.2"],
    ["2", "v3", "localhost:5000/team/x:v3"],
    ["3", "edge", undefined],
  ]);
  const bytes = new TextDecoder().decode(ix.bytes());
  expect(bytes.startsWith(`{"schemaVersion":2,"mediaType":"${MT.ociIndex}","manifests":[`)).toBe(true);
  expect(bytes).not.toContain(" ");
});

test("a name present already moves to the new image", () => {
  const ix = new IndexEntries([{ ...d(1), annotations: { [REF]: "1.2", [CTR]: "docker.io/library/app:1.2" } }, { ...d(2), annotations: { [REF]: "old" } }], "tag");
  ix.add(d(3), ["docker.io/library/app:1.2"].map(parseImageName));
  ix.add(d(4), ["old"].map(parseImageName));
  expect(view(ix)).toEqual([
    ["3", "1.2", "docker.io/library/app:1.2"],
    ["4", "old", undefined],
  ]);
  // a bare tag is looked up by ref.name alone: an entry whose ref.name equals it loses it (3 was
  // written by this same copy, so it stays without a name rather than vanish)
  ix.add(d(5), ["1.2"].map(parseImageName));
  expect(view(ix)).toEqual([
    ["3", undefined, undefined],
    ["4", "old", undefined],
    ["5", "1.2", undefined],
  ]);
});

test("the same image: repeats collapse, its other names stay, an unnamed entry is not doubled", () => {
  const ix = new IndexEntries([], "tag");
  ix.add(d(1), ["a:1", "1"].map(parseImageName));
  ix.add(d(1), ["a:1"].map(parseImageName));
  ix.add(d(1), [].map(parseImageName));
  expect(view(ix)).toEqual([
    ["1", "1", undefined],
    ["1", "1", "docker.io/library/a:1"],
  ]);
  const un = new IndexEntries([], "tag");
  un.add(d(2), [].map(parseImageName));
  un.add(d(2), [].map(parseImageName));
  un.add(d(2), ["b:2"].map(parseImageName));
  expect(view(un)).toEqual([["2", "2", "docker.io/library/b:2"]]);
});

test("OCI layouts write the name as given (skopeo's convention): two repositories with one tag stay apart", () => {
  const ix = new IndexEntries();
  ix.add(d(1), ["a/one:v1"].map(parseImageName));
  ix.add(d(2), ["b/two:v1"].map(parseImageName));
  ix.add(d(3), ["v1"].map(parseImageName));
  expect(view(ix)).toEqual([
    ["1", "a/one:v1", "docker.io/a/one:v1"],
    ["2", "b/two:v1", "docker.io/b/two:v1"],
    ["3", "v1", undefined],
  ]);
  // the same name again moves, whichever form the older entry was written in (Docker 25's tag form included)
  const old = new IndexEntries([{ ...d(1), annotations: { [REF]: "v1", [CTR]: "docker.io/a/one:v1" } }, { ...d(2), annotations: { [REF]: "docker.io/b/two:v1" } }]);
  old.add(d(3), ["a/one:v1"].map(parseImageName));
  old.add(d(4), ["b/two:v1"].map(parseImageName));
  expect(view(old)).toEqual([
    ["3", "a/one:v1", "docker.io/a/one:v1"],
    ["4", "b/two:v1", "docker.io/b/two:v1"],
  ]);
});

test("a name taken by a later image of the same copy leaves the earlier image unnamed, not dropped; an older layout's image goes", () => {
  const ix = new IndexEntries([{ ...d(9), annotations: { [REF]: "1.0.0" } }]);
  ix.add(d(1), ["1.0.0"].map(parseImageName));
  ix.add(d(2), ["1.0.0"].map(parseImageName));
  expect(view(ix)).toEqual([
    ["1", undefined, undefined],
    ["2", "1.0.0", undefined],
  ]);
});
