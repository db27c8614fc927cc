import { parseDigest, type Digest } from "./digest.ts";
import { ImgxError, q } from "./errors.ts";
import { asObject, optStr, parseJsonBytes, str } from "./json.ts";
import { INDEX_TYPES, MANIFEST_TYPES, MT, SCHEMA1_TYPES, layerCompression } from "./media-types.ts";
import type { Platform } from "./platform.ts";
import type { ParsedSchema1 } from "./schema1.ts";

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** What parseManifestBytes returns: schema 2 / OCI, the formats imgx reads everywhere and writes. */
export type ImageParsed = { kind: "manifest"; mediaType: string; manifest: ImageManifest } | { kind: "index"; mediaType: string; index: ImageIndex };
export type Parsed =
  | ImageParsed
  /** Docker schema 1, read from registries only; `sizes` are the blobs' sizes the registry reported. */
  | { kind: "schema1"; mediaType: string; schema1: ParsedSchema1; sizes: Map<Digest, number> };

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
  rootfs: { type: string; diff_ids: Digest[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

const MAX_SIZE = Number.MAX_SAFE_INTEGER;

function annotations(o: Record<string, unknown>, what: string): Record<string, string> | undefined {
  const a = o.annotations;
  if (a === undefined || a === null) return undefined;
  const obj = asObject(a, `${what} annotations`);
  for (const [k, v] of Object.entries(obj))
    if (typeof v !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: annotation ${q(k)} must be a string`);
  return obj as Record<string, string>;
}

export function parseDescriptor(v: unknown, what: string): Descriptor {
  const o = asObject(v, what);
  const mediaType = str(o, "mediaType", what);
  const digest = parseDigest(o.digest, `${what} digest`);
  const size = o.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0 || size > MAX_SIZE)
    throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: size must be a non-negative integer, got ${q(size)}`);
  const d: Descriptor = { mediaType, digest, size };
  if (o.platform !== undefined && o.platform !== null) {
    const p = asObject(o.platform, `${what} platform`);
    d.platform = { ...(p as object), os: str(p, "os", `${what} platform`), architecture: str(p, "architecture", `${what} platform`) } as Platform;
    const variant = optStr(p, "variant", `${what} platform`);
    if (variant !== undefined) d.platform.variant = variant;
  }
  const ann = annotations(o, what);
  if (ann) d.annotations = ann;
  if (Array.isArray(o.urls)) d.urls = o.urls.filter((u): u is string => typeof u === "string");
  const at = optStr(o, "artifactType", what);
  if (at) d.artifactType = at;
  return d;
}

/**
 * Parses and validates manifest or index bytes. `declared` is the media type the container
 * (registry Content-Type, descriptor) claimed; the body's own mediaType wins when present and must agree.
 * `declaredBy` says who claimed it, for the message: a registry serves, a local descriptor points.
 */
export function parseManifestBytes(bytes: Uint8Array, what: string, declared?: string, declaredBy: "registry" | "descriptor" = "registry"): ImageParsed {
  const o = asObject(parseJsonBytes(bytes, what), what);
  const bodyType = optStr(o, "mediaType", what);
  if (o.schemaVersion === 1 || (bodyType && SCHEMA1_TYPES.includes(bodyType)) || (declared && SCHEMA1_TYPES.includes(declared)))
    throw new ImgxError("UNSUPPORTED", `Cannot use ${what}: it is a Docker schema 1 manifest (deprecated since 2017); imgx reads schema 1 only from registries, converting it to schema 2/OCI, and never writes it`, {
      hint: "pull or copy it from its registry with imgx (or re-push it with a current docker or skopeo)",
    });
  if (o.schemaVersion !== 2) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: schemaVersion must be 2, got ${q(o.schemaVersion)}`);
  const usableDeclared = declared && (INDEX_TYPES.includes(declared) || MANIFEST_TYPES.includes(declared)) ? declared : undefined;
  if (bodyType && usableDeclared && bodyType !== usableDeclared)
    throw new ImgxError(
      "BAD_MANIFEST",
      declaredBy === "registry"
        ? `Cannot read ${what}: body says mediaType ${q(bodyType)} but it was served as ${q(usableDeclared)}`
        : `Cannot read ${what}: its body says mediaType ${q(bodyType)} but the descriptor pointing to it says ${q(usableDeclared)}`,
      declaredBy === "registry" ? {} : { hint: "the index entry must name the manifest's own media type; fix that entry (imgx does not guess which of the two is right)" },
    );
  let mediaType = bodyType ?? usableDeclared;
  if (!mediaType) mediaType = Array.isArray(o.manifests) ? MT.ociIndex : o.config !== undefined ? MT.ociManifest : "";
  if (INDEX_TYPES.includes(mediaType)) {
    if (!Array.isArray(o.manifests)) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: field "manifests" must be an array`);
    const index: ImageIndex = { ...(o as object), schemaVersion: 2, manifests: o.manifests.map((m, i) => parseDescriptor(m, `${what} manifests[${i}]`)) } as ImageIndex;
    const ann = annotations(o, what);
    if (ann) index.annotations = ann;
    return { kind: "index", mediaType, index };
  }
  if (MANIFEST_TYPES.includes(mediaType)) {
    if (!Array.isArray(o.layers)) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: field "layers" must be an array`);
    const manifest: ImageManifest = {
      ...(o as object),
      schemaVersion: 2,
      config: parseDescriptor(o.config, `${what} config`),
      layers: o.layers.map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)),
    } as ImageManifest;
    return { kind: "manifest", mediaType, manifest };
  }
  throw new ImgxError("UNSUPPORTED", `Cannot read ${what}: unknown manifest media type ${q(mediaType)}`);
}

/** Parses an image config; checks only what imgx relies on (os, architecture, rootfs.diff_ids). */
export function parseConfigBytes(bytes: Uint8Array, what: string, maxBytes?: number): ImageConfig {
  const o = asObject(parseJsonBytes(bytes, what, maxBytes), what);
  const rootfs = asObject(o.rootfs, `${what} rootfs`);
  if (!Array.isArray(rootfs.diff_ids)) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: rootfs.diff_ids must be an array`);
  const diff_ids = rootfs.diff_ids.map((d, i) => parseDigest(d, `${what} rootfs.diff_ids[${i}]`));
  return { ...(o as object), os: str(o, "os", what), architecture: str(o, "architecture", what), rootfs: { type: String(rootfs.type ?? "layers"), diff_ids } } as ImageConfig;
}

/** A top-level image (manifest or index) a source offers, with the names it carries there. */
export interface SourceImage {
  descriptor: Descriptor;
  /** Full references ("app:1.2", "host/repo:tag") or bare tags ("1.2"), as the source stores them. */
  names: string[];
}

export interface ManifestData {
  descriptor: Descriptor;
  /** Exactly the bytes stored or served; never re-serialised. */
  bytes: Uint8Array;
  parsed: Parsed;
}
