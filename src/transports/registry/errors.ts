import { ImgxError, q, type ErrorCode } from "../../core/errors.ts";

const CODE_MAP: Record<string, ErrorCode> = {
  MANIFEST_UNKNOWN: "MANIFEST_UNKNOWN",
  BLOB_UNKNOWN: "BLOB_UNKNOWN",
  NAME_UNKNOWN: "NAME_UNKNOWN",
  UNAUTHORIZED: "UNAUTHORIZED",
  DENIED: "DENIED",
  DIGEST_INVALID: "DIGEST_MISMATCH",
  SIZE_INVALID: "SIZE_MISMATCH",
};

/** Turns a registry error response into one line: the registry's own code and message, the subject named. */
export async function registryError(res: Response, action: string, subject: string): Promise<ImgxError> {
  let detail = "";
  let regCode: string | undefined;
  try {
    const text = (await res.text()).slice(0, 4096);
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const first = body.errors?.[0];
    if (first) {
      regCode = first.code;
      detail = `${first.code ?? "ERROR"}: ${first.message ?? ""}`.trim();
      // distribution puts the useful part (e.g. the missing blob's digest) in `detail`
      const d = typeof first.detail === "string" ? first.detail : first.detail === undefined ? "" : JSON.stringify(first.detail);
      if (d && d.length <= 300 && !detail.includes(d)) detail += ` (${d})`;
    }
  } catch {
    /* not a distribution error body */
  }
  let code: ErrorCode = (regCode && CODE_MAP[regCode]) || "REGISTRY";
  if (code === "REGISTRY") {
    // an overloaded or failing registry is a transient, network-class failure: the pipeline retries the blob
    if (res.status >= 500 || res.status === 429) code = "NETWORK";
    else if (res.status === 401) code = "UNAUTHORIZED";
    else if (res.status === 403) code = "DENIED";
    else if (res.status === 404) code = "NOT_FOUND";
  }
  const fallback: Record<number, string> = { 401: "UNAUTHORIZED: authentication required, or the credentials were refused", 403: "DENIED: access to the repository denied", 404: "not found" };
  const msg = detail || fallback[res.status] || `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const hint = code === "UNAUTHORIZED" ? "log in with imgx login, or pass --creds" : code === "DENIED" ? "the credentials lack permission for this repository" : undefined;
  return new ImgxError(code, `Cannot ${action} ${q(subject)}: ${scrub(msg)}`.replace(/\s*\n\s*/g, " "), { hint });
}

/** A registry may echo what it was sent; a token or a password must still never reach the terminal. */
function scrub(s: string): string {
  return s.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 REDACTED").replace(/\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9._-]+/g, "REDACTED");
}
