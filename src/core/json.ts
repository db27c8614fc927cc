import { ImgxError, q } from "./errors.ts";

/** Manifests, configs and index.json larger than this are refused (registries cap manifests at 4 MiB). */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** Config blobs can be larger than manifests (long histories); still bounded so a hostile file can't exhaust memory. */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
const MAX_DEPTH = 64;

/** Parses JSON from bytes with a size and nesting limit; errors name the source. */
export function parseJsonBytes(bytes: Uint8Array | string, what: string, maxBytes = MAX_JSON_BYTES): unknown {
  const len = typeof bytes === "string" ? bytes.length : bytes.byteLength;
  if (len > maxBytes) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: ${len} bytes exceeds the ${maxBytes}-byte limit`);
  const text = typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  checkDepth(text, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ImgxError("BAD_MANIFEST", `Cannot parse ${what}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

function checkDepth(text: string, what: string): void {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) inStr = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) throw new ImgxError("BAD_MANIFEST", `Cannot parse ${what}: JSON nested deeper than ${MAX_DEPTH} levels`);
    } else if (c === 125 || c === 93) depth--;
  }
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: expected a JSON object`);
  return v as Record<string, unknown>;
}

export function str(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: field ${q(key)} must be a string`);
  return v;
}

export function optStr(o: Record<string, unknown>, key: string, what: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: field ${q(key)} must be a string`);
  return v;
}

/** Canonical JSON for manifests imgx writes itself: stable key order as given, no whitespace. */
export function encodeJson(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}
