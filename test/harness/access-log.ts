import { existsSync, readFileSync } from "node:fs";

export interface LoggedRequest {
  method: string;
  uri: string;
  status: number;
  userAgent: string;
}

// distribution's combined-format access log (its stdout): every request, including those refused
// by auth, e.g. `127.0.0.1 - - [date] "POST /v2/x/blobs/uploads/?mount=… HTTP/1.1" 401 264 "" "imgx/0.1.0"`
const COMBINED = /^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"/;

/**
 * The requests the registry answered, in order. Given the registry's stderr log (RunningRegistry.logPath)
 * it reads the access log next to it, because the stderr log's "response completed" lines leave
 * out requests refused by auth (a 401 is logged only as "error authorizing context").
 */
export function loggedRequests(logPath: string): LoggedRequest[] {
  const access = logPath.replace(/\.err$/, "");
  if (access !== logPath && existsSync(access)) return accessLogRequests(access);
  const out: LoggedRequest[] = [];
  for (const line of readFileSync(logPath, "utf8").split("\n")) {
    if (!line.includes('msg="response completed"')) continue;
    const get = (k: string) => new RegExp(`${k.replace(/\./g, "\\.")}=("([^"]*)"|(\\S+))`).exec(line);
    const m = get("http.request.method");
    const u = get("http.request.uri");
    const s = get("http.response.status");
    const a = get("http.request.useragent");
    if (m && u) out.push({ method: m[2] ?? m[3]!, uri: u[2] ?? u[3]!, status: Number(s?.[2] ?? s?.[3] ?? 0), userAgent: a?.[2] ?? a?.[3] ?? "" });
  }
  return out;
}

/** Every request from a combined-format access log. */
export function accessLogRequests(path: string): LoggedRequest[] {
  const out: LoggedRequest[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = COMBINED.exec(line);
    if (m) out.push({ method: m[1]!, uri: m[2]!, status: Number(m[3]), userAgent: m[4]! });
  }
  return out;
}
