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
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) {
      regCode = first.code;
      detail = `${first.code ?? "ERROR"}: ${first.message ?? ""}`.trim();
    }
  } catch {
    /* not a distribution error body */
  }
  let code: ErrorCode = (regCode && CODE_MAP[regCode]) || "REGISTRY";
  if (code === "REGISTRY") {
    if (res.status === 401) code = "UNAUTHORIZED";
    else if (res.status === 403) code = "DENIED";
    else if (res.status === 404) code = "NOT_FOUND";
  }
  const fallback: Record<number, string> = { 401: "UNAUTHORIZED: authentication required, or the credentials were refused", 403: "DENIED: access to the repository denied", 404: "not found" };
  const msg = detail || fallback[res.status] || `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  const hint = code === "UNAUTHORIZED" ? "log in with imgx login, or pass --creds" : code === "DENIED" ? "the credentials lack permission for this repository" : undefined;
  return new ImgxError(code, `Cannot ${action} ${q(subject)}: ${msg}`, { hint });
}
