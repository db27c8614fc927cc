// Turns an indexed tarball into the images it holds: docker-save (legacy and Docker 25+, via
// manifest.json, which wins when both are present, but names one platform of a multi-platform image:
// those come from index.json) or OCI archive (index.json); plain or gzip/zstd-compressed.
import { FileBytes, StreamBytes } from "./layer-bytes.js";
import { withIndexPlatforms } from "./platforms.js";
import { BadArchive, indexTar, readEntry, readJsonEntry, resolve, sniff } from "./tar-index.js";
import { indexTarStream } from "./tar-stream.js";

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

function platformOf(c) {
  return [c.os, c.architecture, c.variant].filter(Boolean).join("/") || "unknown";
}

/** One layer: where its bytes lie in the file and what the server must check them against. */
async function layer(file, e, i, diffIds, declared) {
  const compression = await sniff(file, e.offset);
  if (compression === "none") {
    const diffId = diffIds[i];
    if (!DIGEST.test(diffId ?? "")) throw new BadArchive(`Layer ${i + 1}: the config has no sha256 diff_id for it`);
    return { offset: e.offset, size: e.size, expect: diffId, gzip: true, compression: "gzip", name: e.name };
  }
  // already compressed: sent as it is, named by its blob digest (from the OCI descriptor or the file name)
  const fromName = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.tar(?:\.gz|\.zst)?)?$/.exec(e.name)?.[1];
  const expect = declared ?? (fromName ? `sha256:${fromName}` : undefined);
  if (!expect) throw new BadArchive(`Layer ${i + 1} (${e.name}) is ${compression}-compressed but its digest is not known: repack it with imgx convert`);
  return { offset: e.offset, size: e.size, expect, gzip: false, compression, name: e.name };
}

async function dockerSave(file, entries) {
  const list = await readJsonEntry(file, entries, "manifest.json");
  if (!Array.isArray(list) || list.length === 0) throw new BadArchive("manifest.json lists no images");
  const images = [];
  for (const m of list) {
    if (typeof m?.Config !== "string" || !Array.isArray(m.Layers)) throw new BadArchive("manifest.json: an entry lacks Config or Layers");
    const configBytes = await readEntry(file, entries, m.Config);
    const config = JSON.parse(new TextDecoder().decode(configBytes));
    const diffIds = config?.rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.Layers.length) throw new BadArchive(`${m.Config}: ${diffIds.length} diff_ids for ${m.Layers.length} layers`);
    const layers = [];
    for (const [i, p] of m.Layers.entries()) layers.push(await layer(file, resolve(entries, p), i, diffIds));
    images.push({ names: m.RepoTags ?? [], platform: platformOf(config), config, configBytes, layers, format: entries.has("oci-layout") ? "oci" : "docker" });
  }
  return images;
}

function blobName(d) {
  if (!DIGEST.test(d ?? "")) throw new BadArchive(`Bad digest ${JSON.stringify(d)} in the archive`);
  return `blobs/sha256/${d.slice(7)}`;
}

function isAttestation(d) {
  return d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || (d.platform?.os === "unknown" && d.platform?.architecture === "unknown");
}

function blobPresent(entries, d) {
  try {
    return DIGEST.test(d?.digest ?? "") && !!resolve(entries, blobName(d.digest));
  } catch {
    return false;
  }
}

async function ociArchive(file, entries) {
  const index = await readJsonEntry(file, entries, "index.json");
  const found = [];
  // `set`: the image index a platform image came from (several of them are pushed as one index)
  const walk = async (descs, names, depth, set) => {
    for (const d of descs ?? []) {
      // Docker 25+ names its images in full there; ref.name holds only the tag
      const own = d.annotations?.["io.containerd.image.name"] ?? d.annotations?.["org.opencontainers.image.ref.name"];
      const n = own ? [own] : names;
      if (INDEX_TYPES.includes(d.mediaType)) {
        if (depth < 2) await walk((await readJsonEntry(file, entries, blobName(d.digest))).manifests, n, depth + 1, { key: d.digest, form: d.mediaType === INDEX_TYPES[1] ? "docker" : "oci", names: n, skipped: [] });
      } else if (!isAttestation(d)) found.push({ desc: d, names: n, set: set ?? (d.platform ? { key: `index.json ${n.join(",")}`, form: d.mediaType === DOCKER_MANIFEST ? "docker" : "oci", names: n, skipped: [] } : undefined) });
    }
  };
  await walk(index.manifests, [], 0);
  const images = [];
  for (const { desc, names, set } of found) {
    // a platform the saving daemon never pulled (docker save keeps its manifest, not its blobs)
    const m = blobPresent(entries, desc) || !set ? await readJsonEntry(file, entries, blobName(desc.digest)) : undefined;
    if (set && desc.platform && !(blobPresent(entries, m?.config) && (m.layers ?? []).every((l) => blobPresent(entries, l)))) {
      set.skipped.push(platformOf(desc.platform));
      continue;
    }
    if (!m?.config || !Array.isArray(m.layers)) continue; // an artifact or attestation, not an image
    const configBytes = await readEntry(file, entries, blobName(m.config.digest));
    const config = JSON.parse(new TextDecoder().decode(configBytes));
    const diffIds = config?.rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.layers.length) continue; // attestation manifests carry no rootfs
    const layers = [];
    for (const [i, d] of m.layers.entries()) {
      const e = resolve(entries, blobName(d.digest));
      if (e.size !== d.size) throw new BadArchive(`Layer ${i + 1}: the manifest says ${d.size} bytes, the archive holds ${e.size}`);
      layers.push(await layer(file, e, i, diffIds, d.digest));
    }
    images.push({ names, platform: desc.platform ? platformOf(desc.platform) : platformOf(config), platformSpec: desc.platform, config, configBytes, layers, format: "oci", set });
  }
  if (images.length === 0) throw new BadArchive("index.json names no image with layers");
  return images;
}

/** All images in a tarball, or a BadArchive with a message for the page. */
export async function readArchive(file, onProgress) {
  return (await openArchive(file, onProgress)).images;
}

/**
 * The images in a tarball and where their layers' bytes are read from (layer-bytes.js). A gzip- or
 * zstd-compressed tarball is decompressed once here to index it (onProgress(decompressed bytes)),
 * and again when its layers are sent.
 */
export async function openArchive(file, onProgress) {
  const c = await sniff(file, 0);
  if (c !== "none") {
    const { entries, kept, size } = await indexTarStream(file, c, onProgress);
    return { images: await imagesOf(kept, entries), bytes: new StreamBytes(file, c, size), compression: c };
  }
  return { images: await imagesOf(file, await indexTar(file)), bytes: new FileBytes(file), compression: "none" };
}

async function imagesOf(file, entries) {
  // Docker 25+ keeps a multi-platform image's index next to manifest.json, which names one platform
  if (entries.has("manifest.json")) return withIndexPlatforms(await dockerSave(file, entries), entries.has("index.json") ? await ociArchive(file, entries).catch(() => []) : []);
  if (entries.has("index.json")) return ociArchive(file, entries);
  throw new BadArchive("Neither a docker-save nor an OCI archive: the tar has no manifest.json or index.json");
}
