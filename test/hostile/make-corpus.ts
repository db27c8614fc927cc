// Generates malformed and malicious image archives/layouts. Each case names the error it must cause.
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { packTar } from "modern-tar";
import { generateAll, layerTar } from "../../fixtures/generate.ts";
import { sha256Bytes } from "../../src/core/digest.ts";

export interface HostileCase {
  name: string;
  /** Path or transport reference handed to imgx convert. */
  input: string;
  /** Substring the one-line error must contain. */
  expect: string;
  exit: number;
}

type Entry = { name: string; body?: Uint8Array | string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string };
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

async function tar(path: string, entries: Entry[]): Promise<void> {
  writeFileSync(
    path,
    await packTar(
      entries.map((e) => {
        const b = typeof e.body === "string" ? new TextEncoder().encode(e.body) : e.body;
        return { header: { name: e.name, size: b?.length ?? 0, type: e.type ?? "file", linkname: e.linkname, mtime: new Date(0) }, body: b };
      }),
    ),
  );
}

/** A minimal valid legacy save: one layer, config, manifest.json; parts replaceable per case. */
async function save(path: string, over: { manifest?: unknown; extra?: Entry[]; layerEntry?: Entry; layerBody?: Uint8Array } = {}): Promise<void> {
  const layer = await layerTar(3, "h");
  const config = enc({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [sha256Bytes(layer)] } });
  const entries: Entry[] = [
    over.layerEntry ?? { name: "l1/layer.tar", body: over.layerBody ?? layer },
    { name: "config.json", body: config },
    { name: "manifest.json", body: over.manifest !== undefined ? (typeof over.manifest === "string" ? over.manifest : enc(over.manifest)) : enc([{ Config: "config.json", RepoTags: ["h/x:1"], Layers: ["l1/layer.tar"] }]) },
    ...(over.extra ?? []),
  ];
  await tar(path, entries);
}

export async function makeCorpus(dir: string): Promise<HostileCase[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fx = join(dir, "fx");
  await generateAll(fx);
  const p = (n: string) => join(dir, n);
  const cases: HostileCase[] = [];
  const add = (name: string, input: string, expect: string, exit = 6) => cases.push({ name, input, expect, exit });

  const good = readFileSync(join(fx, "legacy-save.tar"));
  writeFileSync(p("truncated.tar"), good.subarray(0, Math.floor(good.length / 2)));
  add("truncated tar", p("truncated.tar"), "truncated");

  await save(p("missing-layer.tar"), { manifest: [{ Config: "config.json", RepoTags: [], Layers: ["nope/layer.tar"] }] });
  add("manifest.json names a missing layer", p("missing-layer.tar"), '"nope/layer.tar", which is not in the archive');

  await save(p("dotdot.tar"), { manifest: [{ Config: "config.json", RepoTags: [], Layers: ["../../etc/passwd"] }] });
  add("manifest.json with ..", p("dotdot.tar"), "points outside the archive");

  await save(p("absolute.tar"), { manifest: [{ Config: "/etc/passwd", RepoTags: [], Layers: ["l1/layer.tar"] }] });
  add("manifest.json with an absolute path", p("absolute.tar"), "points outside the archive");

  await save(p("not-json.tar"), { manifest: "{this is not json" });
  add("non-JSON manifest.json", p("not-json.tar"), "not valid JSON");

  await save(p("deep.tar"), { manifest: "[".repeat(10_000) + "]".repeat(10_000) });
  add("deeply nested manifest.json", p("deep.tar"), "nested deeper");

  await save(p("huge.tar"), { manifest: `[${" ".repeat(5 * 1024 * 1024)}]` });
  add("manifest.json over the 4 MiB limit", p("huge.tar"), "exceeds");

  await save(p("duplicate.tar"), { extra: [{ name: "config.json", body: "{}" }] });
  add("duplicate entries", p("duplicate.tar"), 'duplicate entry "config.json"');

  const tampered = await layerTar(3, "h");
  tampered[600] ^= 0xff;
  await save(p("digest-lie.tar"), { layerBody: tampered });
  add("layer bytes do not match the diff_id", p("digest-lie.tar"), "content has digest");

  await save(p("symlink-escape.tar"), { layerEntry: { name: "l1/layer.tar", type: "symlink", linkname: "../../../etc/passwd" } });
  add("symlink pointing outside", p("symlink-escape.tar"), "points outside the archive");

  await save(p("hardlink-escape.tar"), { layerEntry: { name: "l1/layer.tar", type: "link", linkname: "/etc/passwd" } });
  add("hardlink pointing outside", p("hardlink-escape.tar"), "outside the archive");

  await tar(p("abs-entry.tar"), [{ name: "/etc/evil", body: "x" }, { name: "manifest.json", body: "[]" }]);
  add("absolute entry name", p("abs-entry.tar"), "absolute path");

  // OCI layouts
  const noLayout = p("no-oci-layout");
  cpSync(join(fx, "single-oci"), noLayout, { recursive: true });
  rmSync(join(noLayout, "oci-layout"));
  add("oci dir without oci-layout", `oci:${noLayout}`, "no oci-layout file");

  const sizeLie = p("size-lie-oci");
  cpSync(join(fx, "single-oci"), sizeLie, { recursive: true });
  const idx = JSON.parse(readFileSync(join(sizeLie, "index.json"), "utf8"));
  const mPath = join(sizeLie, "blobs", "sha256", idx.manifests[0].digest.slice(7));
  const m = JSON.parse(readFileSync(mPath, "utf8"));
  m.layers[0].size += 1000;
  const mBytes = enc(m);
  writeFileSync(join(sizeLie, "blobs", "sha256", sha256Bytes(mBytes).slice(7)), mBytes);
  idx.manifests[0] = { ...idx.manifests[0], digest: sha256Bytes(mBytes), size: mBytes.length };
  writeFileSync(join(sizeLie, "index.json"), JSON.stringify(idx));
  add("layer size that lies", `oci:${sizeLie}`, "descriptor says");

  const badMt = p("unknown-mt-oci");
  cpSync(join(fx, "single-oci"), badMt, { recursive: true });
  const idx2 = JSON.parse(readFileSync(join(badMt, "index.json"), "utf8"));
  idx2.manifests[0].mediaType = "application/x-evil";
  writeFileSync(join(badMt, "index.json"), JSON.stringify(idx2));
  add("unknown media type in index.json", `oci:${badMt}`, 'unknown media type "application/x-evil"');

  const md5 = p("md5-oci");
  cpSync(join(fx, "single-oci"), md5, { recursive: true });
  const idx3 = JSON.parse(readFileSync(join(md5, "index.json"), "utf8"));
  idx3.manifests[0].digest = "md5:d41d8cd98f00b204e9800998ecf8427e";
  writeFileSync(join(md5, "index.json"), JSON.stringify(idx3));
  add("non-sha256 digest", `oci:${md5}`, "only sha256");

  const malformed = p("malformed-digest-oci");
  cpSync(join(fx, "single-oci"), malformed, { recursive: true });
  const idx4 = JSON.parse(readFileSync(join(malformed, "index.json"), "utf8"));
  idx4.manifests[0].digest = "sha256:../../../../etc/passwd";
  writeFileSync(join(malformed, "index.json"), JSON.stringify(idx4));
  add("malformed digest used as a path", `oci:${malformed}`, "64 lowercase hex");

  const tamperedBlob = p("tampered-blob-oci");
  cpSync(join(fx, "single-oci"), tamperedBlob, { recursive: true });
  const mm = JSON.parse(readFileSync(join(tamperedBlob, "blobs", "sha256", JSON.parse(readFileSync(join(tamperedBlob, "index.json"), "utf8")).manifests[0].digest.slice(7)), "utf8"));
  const lp = join(tamperedBlob, "blobs", "sha256", mm.layers[1].digest.slice(7));
  const lb = readFileSync(lp);
  lb[lb.length - 10] ^= 0xff;
  writeFileSync(lp, lb);
  add("a layer whose bytes were changed", `oci:${tamperedBlob}`, "content has digest");

  await save(p("diffid-count.tar"), { manifest: [{ Config: "config.json", RepoTags: [], Layers: ["l1/layer.tar", "l1/layer.tar"] }] });
  add("more layers than diff_ids", p("diffid-count.tar"), "lists 2 layers but its config has 1 diff_ids");

  await save(p("dir-as-layer.tar"), { manifest: [{ Config: "config.json", RepoTags: [], Layers: ["l1"] }], extra: [{ name: "l1/", type: "directory" }] });
  add("manifest.json names a directory", p("dir-as-layer.tar"), '"l1", which is not in the archive');

  await save(p("not-array.tar"), { manifest: { Config: "config.json" } });
  add("manifest.json that is not an array", p("not-array.tar"), "expected a non-empty JSON array");

  // Docker 25+: a blob whose bytes do not match the digest its path claims
  const d25 = readFileSync(join(fx, "docker25-save.tar"));
  const flipped = Buffer.from(d25);
  const firstBody = 512; // the first entry is a layer blob (see fixtures/generate.ts docker25Save)
  flipped[firstBody + 700]! ^= 0xff;
  writeFileSync(p("d25-blob-lie.tar"), flipped);
  add("Docker 25 layer whose bytes differ from its blobs/sha256 name", p("d25-blob-lie.tar"), "content has digest");

  writeFileSync(p("d25-truncated.tar"), d25.subarray(0, d25.length - 3000));
  add("truncated Docker 25 save", p("d25-truncated.tar"), "truncated");

  const missingBlob = p("missing-blob-oci");
  cpSync(join(fx, "single-oci"), missingBlob, { recursive: true });
  const idx5 = JSON.parse(readFileSync(join(missingBlob, "index.json"), "utf8"));
  const m5 = JSON.parse(readFileSync(join(missingBlob, "blobs", "sha256", idx5.manifests[0].digest.slice(7)), "utf8"));
  rmSync(join(missingBlob, "blobs", "sha256", m5.layers[0].digest.slice(7)));
  add("OCI layout missing a layer blob", `oci:${missingBlob}`, m5.layers[0].digest.slice(7, 19));

  const badIndex = p("bad-index-oci");
  cpSync(join(fx, "single-oci"), badIndex, { recursive: true });
  writeFileSync(join(badIndex, "index.json"), "not json");
  add("OCI layout with a non-JSON index.json", `oci:${badIndex}`, "index.json");

  // an OCI archive whose index.json points at a manifest it does not hold
  await tar(p("oci-archive-missing.tar"), [
    { name: "oci-layout", body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: "index.json", body: enc({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"ab".repeat(32)}`, size: 100 }] }) },
  ]);
  add("OCI archive without the manifest its index names", `oci-archive:${p("oci-archive-missing.tar")}`, "abababab");

  writeFileSync(p("cut.tar.gz"), gzipSync(good).subarray(0, 3000));
  add("truncated gzip-compressed save", p("cut.tar.gz"), "corrupt gzip data");

  copyFileSync(join(fx, "legacy-save.tar"), p("ok.tar"));
  return cases;
}

/** Odd but harmless inputs that must convert: extra unreferenced entries, "./" names, GNU tar headers. */
export async function makeAccepted(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const extra = join(dir, "extra-entries.tar");
  await save(extra, { extra: [{ name: "README.txt", body: "not part of the image" }, { name: "junk/", type: "directory" }, { name: "junk/link", type: "symlink", linkname: "../README.txt" }] });
  const dotted = join(dir, "dot-slash.tar");
  const layer = await layerTar(3, "h");
  const config = enc({ os: "linux", architecture: "amd64", rootfs: { type: "layers", diff_ids: [sha256Bytes(layer)] } });
  await tar(dotted, [
    { name: "./", type: "directory" },
    { name: "./l1/layer.tar", body: layer },
    { name: "./config.json", body: config },
    { name: "./manifest.json", body: enc([{ Config: "./config.json", RepoTags: ["h/x:1"], Layers: ["l1/layer.tar"] }]) },
  ]);
  return [extra, dotted];
}

