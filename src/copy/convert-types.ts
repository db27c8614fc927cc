import { ImgxError, q } from "../core/errors.ts";
import { MT, layerCompression, layerMediaType, type Compression, type Family } from "../core/media-types.ts";

/** Config media type in the target family; artifacts' own config types can't become Docker. */
export function convertConfigType(mt: string, family: Family): string {
  if (mt === MT.dockerConfig || mt === MT.ociConfig) return family === "docker" ? MT.dockerConfig : MT.ociConfig;
  if (family === "docker")
    throw new ImgxError("UNSUPPORTED", `Cannot convert to a Docker manifest: config media type ${q(mt)} has no Docker equivalent`, {
      hint: "use --format oci",
    });
  return mt;
}

/** Layer media type in the target family with the target compression; unknown types pass unchanged. */
export function convertLayerType(mt: string, family: Family, to: Compression | undefined): string {
  const from = layerCompression(mt);
  if (from === undefined) return mt;
  const nondist = mt.includes("nondistributable") || mt.includes("foreign");
  const c = to ?? from;
  if (nondist && family === "oci") return c === "none" ? MT.ociLayerNondist : c === "gzip" ? MT.ociLayerNondistGzip : MT.ociLayerNondistZstd;
  if (nondist && family === "docker" && c === "gzip") return MT.dockerForeignLayerGzip;
  return layerMediaType(family, c);
}
