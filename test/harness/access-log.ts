import { readFileSync } from "node:fs";

export interface LoggedRequest {
  method: string;
  uri: string;
  status: number;
  userAgent: string;
}

/** The requests the registry answered, read from its access log (stderr). */
export function loggedRequests(logPath: string): LoggedRequest[] {
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
