import { DigestCounter, parseDigest, sha256Bytes, type Digest } from "../../core/digest.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { encodeJson, MAX_CONFIG_BYTES, MAX_JSON_BYTES, parseJsonBytes } from "../../core/json.ts";
import { parseConfigBytes, parseManifestBytes, type Descriptor } from "../../core/manifest.ts";
import { MT, layerMediaType, sniffCompression } from "../../core/media-types.ts";
import { openArchive } from "../../storage/archive-file.ts";
import type { TarTree } from "../../storage/file-tree.ts";
import { canonicalName } from "../../storage/layout-names.ts";
import { safeName } from "../../storage/tar-index.ts";
import type { ImageSource, ManifestData, SourceImage } from "../types.ts";

interface SaveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

interface Stored {
  path: string;
  size: number;
}

const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

/**
 * Reads a docker-save tarball, legacy (`<id>/layer.tar`) or Docker 25+ (OCI layout inside), by its
 * manifest.json, which Docker itself trusts over index.json. Each entry becomes a synthesised
 * Docker schema2 manifest; uncompressed layers are named by their diff_id and verified while streamed.
 */
export async function openDockerArchiveSource(path: string, name?: string): Promise<ImageSource> {
  const archive = await openArchive(path);
  try {
    return await readSave(archive.tree, path, name, archive.close);
  } catch (e) {
    await archive.close();
    throw e;
  }
}

async function readSave(tree: TarTree, path: string, name: string | undefined, close: () => Promise<void>): Promise<ImageSource> {
  const label = `docker-archive:${path}`;
  if (!tree.has("manifest.json")) {
    const hint = tree.has("index.json") ? `it has index.json: read it as oci-archive:${path}` : undefined;
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: manifest.json is missing, so it is not a docker-save tarball`, { hint });
  }
  const entries = parseSaveManifest(await tree.readSmall("manifest.json", MAX_JSON_BYTES), path);
  const blobs = new Map<string, Stored>();
  const manifests = new Map<string, Uint8Array>();
  const images: SourceImage[] = [];

  const checkPath = (p: string, what: string): string => {
    let n: string;
    try {
      n = safeName(p, path);
    } catch {
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: manifest.json ${what} path ${q(p)} points outside the archive`);
    }
    if (tree.size(n) === undefined) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: manifest.json names ${what} ${q(p)}, which is not in the archive`);
    return n;
  };

  for (const [i, e] of entries.entries()) {
    const configPath = checkPath(e.Config, "config");
    const configBytes = await tree.readSmall(configPath, MAX_CONFIG_BYTES);
    const configDigest = sha256Bytes(configBytes);
    const pathDigest = BLOB_PATH.exec(configPath)?.[1];
    if (pathDigest && `sha256:${pathDigest}` !== configDigest)
      throw new ImgxError("DIGEST_MISMATCH", `Cannot read ${q(path)}: config ${q(configPath)} has digest ${q(configDigest)}`);
    const config = parseConfigBytes(configBytes, `config ${configPath} in ${path}`, MAX_CONFIG_BYTES);
    if (config.rootfs.diff_ids.length !== e.Layers.length)
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: image ${i} lists ${e.Layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`);
    blobs.set(configDigest, { path: configPath, size: configBytes.length });
    const layers: Descriptor[] = [];
    for (const [j, lp] of e.Layers.entries()) {
      const p = checkPath(lp, "layer");
      const size = tree.size(p)!;
      const compression = sniffCompression(await tree.head(p, 4));
      let digest: Digest;
      const fromPath = BLOB_PATH.exec(p)?.[1];
      if (fromPath) digest = `sha256:${fromPath}`;
      else if (compression === "none") digest = config.rootfs.diff_ids[j]!;
      else {
        const h = new DigestCounter();
        for await (const c of tree.stream(p)) h.update(c);
        digest = h.digest();
      }
      blobs.set(digest, { path: p, size });
      // key order as Docker and distribution write descriptors (mediaType, size, digest), like the config's
      layers.push({ mediaType: layerMediaType("docker", compression), size, digest });
    }
    const bytes = encodeJson({ schemaVersion: 2, mediaType: MT.dockerManifest, config: { mediaType: MT.dockerConfig, size: configBytes.length, digest: configDigest }, layers });
    const descriptor: Descriptor = { mediaType: MT.dockerManifest, digest: sha256Bytes(bytes), size: bytes.length };
    descriptor.platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
    manifests.set(descriptor.digest, bytes);
    images.push({ descriptor, names: e.RepoTags ?? [] });
  }

  const blobAt = (d: Descriptor, offset: number) => {
    const s = blobs.get(d.digest);
    if (!s) throw new ImgxError("BLOB_UNKNOWN", `Cannot read blob ${q(d.digest)}: not in ${q(path)}`);
    return tree.stream(s.path, offset);
  };
  return {
    label,
    images: async () => selectImages(images, name, path),
    manifest: async (d): Promise<ManifestData> => {
      const bytes = manifests.get(d.digest);
      if (!bytes) throw new ImgxError("MANIFEST_UNKNOWN", `Cannot find manifest ${q(d.digest)} in ${q(path)}`);
      return { descriptor: d, bytes, parsed: parseManifestBytes(bytes, `manifest in ${path}`, MT.dockerManifest) };
    },
    blob: async (d) => blobAt(d, 0),
    blobFrom: async (d, offset) => ({ stream: blobAt(d, offset) }),
    blobFile: (d) => {
      const s = blobs.get(d.digest);
      const at = s && tree.locate(s.path);
      return at?.size === d.size ? at : undefined;
    },
    close,
  };
}

function parseSaveManifest(bytes: Uint8Array, path: string): SaveEntry[] {
  const what = `manifest.json in ${q(path)}`;
  const v = parseJsonBytes(bytes, what);
  if (!Array.isArray(v) || v.length === 0) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${what}: expected a non-empty JSON array`);
  return v.map((e, i) => {
    const o = e as Partial<SaveEntry>;
    if (typeof o?.Config !== "string" || !Array.isArray(o.Layers) || o.Layers.some((l) => typeof l !== "string"))
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${what}: entry ${i} needs a "Config" string and a "Layers" array of strings`);
    // docker load reads "repo" without a tag as "repo:latest" (go-containerregistry's test_bundle.tar has such tags)
    const tags = Array.isArray(o.RepoTags) ? o.RepoTags.filter((t): t is string => typeof t === "string").map(withDefaultTag) : null;
    return { Config: o.Config, Layers: o.Layers, RepoTags: tags };
  });
}

function selectImages(images: SourceImage[], name: string | undefined, path: string): SourceImage[] {
  if (!name) return images;
  const at = /^@(\d+)$/.exec(name);
  if (at) {
    const img = images[Number(at[1])];
    if (img) return [img];
    throw new ImgxError("NOT_FOUND", `Cannot find image ${q(name)} in ${q(path)}: it holds ${images.length} images (@0…@${images.length - 1})`);
  }
  const canon = canonicalName(name);
  const hit = images.find((i) => i.names.some((n) => n === name || (canon && canonicalName(n) === canon)));
  if (hit) return [{ ...hit, names: [name] }];
  if (/^@?sha256:/.test(name)) {
    const d = parseDigest(name.replace(/^@/, ""));
    const byDigest = images.find((i) => i.descriptor.digest === d);
    if (byDigest) return [byDigest];
  }
  const present = images.flatMap((i) => i.names);
  throw new ImgxError("NOT_FOUND", `Cannot find image ${q(name)} in ${q(path)}: ${present.length ? `tags present: ${present.join(", ")}` : "its images have no tags; use @0, @1, …"}`);
}

/** "repo" → "repo:latest"; a name with a tag or digest stays as it is (a registry port is not a tag). */
export function withDefaultTag(name: string): string {
  const last = name.slice(name.lastIndexOf("/") + 1);
  return last.includes(":") || last.includes("@") || name === "" ? name : `${name}:latest`;
}
