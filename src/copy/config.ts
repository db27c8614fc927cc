import { isImgxError } from "../core/errors.ts";
import { MAX_CONFIG_BYTES } from "../core/json.ts";
import { parseConfigBytes, type Descriptor, type ImageConfig } from "../core/manifest.ts";
import type { ImageSource } from "../transports/types.ts";
import { readAllBounded, verifyStream } from "./streams.ts";

/** Reads, verifies and parses an image config blob (small enough to hold in memory, bounded). */
export async function readConfig(source: ImageSource, desc: Descriptor): Promise<{ bytes: Uint8Array; config: ImageConfig }> {
  const what = `config ${desc.digest} from ${source.label}`;
  const v = verifyStream(desc, what);
  const bytes = await readAllBounded((await source.blob(desc)).pipeThrough(v.stream), MAX_CONFIG_BYTES, what);
  return { bytes, config: parseConfigBytes(bytes, what, MAX_CONFIG_BYTES) };
}

/**
 * Reads a config blob as it is, and parses it when it is an image config. Artifacts typed with the
 * image config media type carry other JSON (regclient's testrepo: `{}`): `config` is then undefined
 * and `notImage` says why, so the caller copies them byte for byte or refuses a conversion clearly.
 */
export async function readConfigLoose(source: ImageSource, desc: Descriptor): Promise<{ bytes: Uint8Array; config?: ImageConfig; notImage?: Error }> {
  const what = `config ${desc.digest} from ${source.label}`;
  const v = verifyStream(desc, what);
  const bytes = await readAllBounded((await source.blob(desc)).pipeThrough(v.stream), MAX_CONFIG_BYTES, what);
  try {
    return { bytes, config: parseConfigBytes(bytes, what, MAX_CONFIG_BYTES) };
  } catch (e) {
    if (isImgxError(e, "BAD_MANIFEST")) return { bytes, notImage: e };
    throw e;
  }
}
