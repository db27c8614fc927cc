import { ImgxError, type ErrorCode } from "../core/errors.ts";
import { SECURITY_HEADERS } from "./security.ts";

const STATUS: Partial<Record<ErrorCode, number>> = {
  USAGE: 400,
  BAD_REFERENCE: 400,
  BAD_ARCHIVE: 400,
  BAD_MANIFEST: 400,
  UNSUPPORTED: 400,
  SIZE_MISMATCH: 400,
  DENIED: 403,
  NOT_FOUND: 404,
  MANIFEST_UNKNOWN: 404,
  NAME_UNKNOWN: 404,
  BLOB_UNKNOWN: 409,
  DEST_EXISTS: 409,
  LOCKED: 409,
  DIGEST_MISMATCH: 422,
  UNAUTHORIZED: 502,
  NETWORK: 502,
  TLS: 502,
  REGISTRY: 502,
  IO: 500,
};

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...SECURITY_HEADERS, "content-type": "application/json; charset=utf-8" } });
}

/** One-line errors for the page; the registry's own credentials never appear in them (the client redacts). */
export function errorResponse(e: unknown): Response {
  if (e instanceof ImgxError) return json({ error: e.message + (e.hint ? ` (${e.hint})` : ""), code: e.code }, STATUS[e.code] ?? 500);
  return json({ error: `Unexpected server error: ${(e as Error)?.message ?? String(e)}` }, 500);
}

export async function readJson<T>(req: Request, max = 8 * 1024 * 1024): Promise<T> {
  const len = Number(req.headers.get("content-length") ?? 0);
  if (len > max) throw new ImgxError("USAGE", `Request body of ${len} bytes is over the ${max}-byte limit for JSON`);
  const text = await req.text();
  if (text.length > max) throw new ImgxError("USAGE", `Request body is over the ${max}-byte limit for JSON`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ImgxError("USAGE", "Request body is not JSON");
  }
}
