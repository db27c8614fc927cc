// Docker image manifest schema 1 (deprecated in 2017, still served by old Harbor/Nexus installs and
// by distribution with `compatibility.schema1.enabled`): read-only. A signed schema 1 manifest is
// a JWS whose digest covers its canonical payload, not the bytes sent (a registry re-signs it on
// every GET); images are converted to schema 2 / OCI the way containers/image (skopeo) does.
import { parseDigest, sha256Bytes, type Digest } from "./digest.ts";
import { ImgxError, q } from "./errors.ts";
import { asObject, parseJsonBytes } from "./json.ts";

export interface Schema1Manifest {
  name?: string;
  tag?: string;
  architecture?: string;
  fsLayers: { blobSum: Digest }[];
  history: { v1Compatibility: string }[];
}

/** One layer of a schema 1 image, oldest first, with its parsed v1Compatibility. */
export interface Schema1Layer {
  blobSum: Digest;
  v1: Record<string, unknown>;
  /** An empty layer (`throwaway`): dropped on conversion, kept only as an empty_layer history entry. */
  throwaway: boolean;
}

export interface ParsedSchema1 {
  manifest: Schema1Manifest;
  /** Oldest first, throwaway layers included. */
  layers: Schema1Layer[];
  /** The bytes the digest covers: the body for an unsigned manifest, the JWS payload for a signed one. */
  payload: Uint8Array;
  digest: Digest;
}

const b64url = (s: string, what: string): Uint8Array => {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: not base64url`);
  return new Uint8Array(Buffer.from(s, "base64url"));
};

/**
 * The canonical payload of a signed schema 1 manifest (libtrust's JWS "pretty" form): each
 * signature's `protected` header names how many bytes of the body are the payload (formatLength)
 * and the bytes that close it (formatTail, base64url) in place of the `signatures` member. Every
 * signature must describe the same payload.
 */
export function schema1Payload(bytes: Uint8Array, o: Record<string, unknown>, what: string): Uint8Array {
  if (o.signatures === undefined) return bytes;
  if (!Array.isArray(o.signatures) || o.signatures.length === 0) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: "signatures" must be a non-empty array`);
  let payload: Uint8Array | undefined;
  for (const [i, s] of o.signatures.entries()) {
    const sig = asObject(s, `${what} signatures[${i}]`);
    if (typeof sig.protected !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: signatures[${i}] has no "protected" header`);
    const header = asObject(parseJsonBytes(b64url(sig.protected, `${what} signatures[${i}].protected`), `${what} signatures[${i}].protected`), `${what} protected header`);
    const len = header.formatLength;
    if (typeof len !== "number" || !Number.isInteger(len) || len < 0 || len > bytes.byteLength || typeof header.formatTail !== "string")
      throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: signatures[${i}] has no valid formatLength/formatTail for a ${bytes.byteLength}-byte body`);
    const tail = b64url(header.formatTail, `${what} formatTail`);
    const p = new Uint8Array(len + tail.byteLength);
    p.set(bytes.subarray(0, len));
    p.set(tail, len);
    if (payload && Buffer.compare(payload, p) !== 0) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: its signatures describe different payloads`);
    payload = p;
  }
  // the payload is the manifest without its signatures: it must still be the same manifest
  const body = asObject(parseJsonBytes(payload!, `${what} payload`), `${what} payload`);
  if (body.signatures !== undefined || JSON.stringify(body.fsLayers) !== JSON.stringify(o.fsLayers) || JSON.stringify(body.history) !== JSON.stringify(o.history))
    throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: its signed payload is not the manifest it came with`);
  return payload!;
}

export function isSchema1(o: Record<string, unknown>): boolean {
  return o.schemaVersion === 1;
}

/** Parses and checks a schema 1 manifest (signed or not); its digest is that of its canonical payload. */
export function parseSchema1(bytes: Uint8Array, what: string): ParsedSchema1 {
  const o = asObject(parseJsonBytes(bytes, what), what);
  if (o.schemaVersion !== 1) throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: schemaVersion must be 1, got ${q(o.schemaVersion)}`);
  if (!Array.isArray(o.fsLayers) || !Array.isArray(o.history) || o.fsLayers.length === 0 || o.fsLayers.length !== o.history.length)
    throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: "fsLayers" and "history" must be non-empty arrays of the same length`);
  const fsLayers = o.fsLayers.map((l, i) => ({ blobSum: parseDigest(asObject(l, `${what} fsLayers[${i}]`).blobSum, `${what} fsLayers[${i}].blobSum`) }));
  const history = o.history.map((h, i) => {
    const v = asObject(h, `${what} history[${i}]`).v1Compatibility;
    if (typeof v !== "string") throw new ImgxError("BAD_MANIFEST", `Cannot read ${what}: history[${i}].v1Compatibility must be a string`);
    return { v1Compatibility: v };
  });
  const payload = schema1Payload(bytes, o, what);
  // schema 1 lists the newest layer first
  const layers = fsLayers
    .map((l, i) => {
      const v1 = asObject(parseJsonBytes(new TextEncoder().encode(history[i]!.v1Compatibility), `${what} history[${i}]`), `${what} history[${i}]`);
      return { blobSum: l.blobSum, v1, throwaway: v1.throwaway === true };
    })
    .reverse();
  const manifest: Schema1Manifest = { fsLayers, history };
  for (const k of ["name", "tag", "architecture"] as const) if (typeof o[k] === "string") manifest[k] = o[k] as string;
  return { manifest, layers, payload, digest: sha256Bytes(payload) };
}
