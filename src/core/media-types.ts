export const MT = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  ociLayerNondist: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  ociLayerNondistGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  ociLayerNondistZstd: "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

export type Compression = "none" | "gzip" | "zstd";
export type Family = "oci" | "docker";

export const INDEX_TYPES: readonly string[] = [MT.ociIndex, MT.dockerManifestList];
export const MANIFEST_TYPES: readonly string[] = [MT.ociManifest, MT.dockerManifest];
export const SCHEMA1_TYPES: readonly string[] = [MT.dockerSchema1, MT.dockerSchema1Signed];

export function isIndexType(mt: string | undefined): boolean {
  return mt !== undefined && INDEX_TYPES.includes(mt);
}
export function isManifestType(mt: string | undefined): boolean {
  return mt !== undefined && MANIFEST_TYPES.includes(mt);
}

/** Compression a layer media type declares, or undefined when it is not a known layer type. */
export function layerCompression(mt: string): Compression | undefined {
  switch (mt) {
    case MT.ociLayer:
    case MT.ociLayerNondist:
    case MT.dockerLayer:
      return "none";
    case MT.ociLayerGzip:
    case MT.ociLayerNondistGzip:
    case MT.dockerLayerGzip:
    case MT.dockerForeignLayerGzip:
      return "gzip";
    case MT.ociLayerZstd:
    case MT.ociLayerNondistZstd:
      return "zstd";
  }
  return undefined;
}

export function layerMediaType(family: Family, c: Compression): string {
  if (family === "docker") {
    // Docker schema2 has no zstd layer type; registries and containerd accept the OCI one inside it.
    return c === "none" ? MT.dockerLayer : c === "gzip" ? MT.dockerLayerGzip : MT.ociLayerZstd;
  }
  return c === "none" ? MT.ociLayer : c === "gzip" ? MT.ociLayerGzip : MT.ociLayerZstd;
}

export function manifestMediaType(family: Family): string {
  return family === "docker" ? MT.dockerManifest : MT.ociManifest;
}
export function indexMediaType(family: Family): string {
  return family === "docker" ? MT.dockerManifestList : MT.ociIndex;
}
export function familyOf(manifestOrIndexType: string): Family {
  return manifestOrIndexType.startsWith("application/vnd.docker.") ? "docker" : "oci";
}

/** Sniff compression from the first bytes of a blob (magic numbers, not names). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}
