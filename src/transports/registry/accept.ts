import { MT } from "../../core/media-types.ts";

/** Every manifest type imgx understands, plus schema1 so its deprecation gets a clear error. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerManifestList, MT.dockerManifest, MT.dockerSchema1Signed, MT.dockerSchema1].join(", ");
