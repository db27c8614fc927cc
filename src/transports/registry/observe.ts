/** Per-request observations: what bench reports and what any caller can log or count. */

export type EndpointName =
  | "GET /v2/"
  | "GET token"
  | "HEAD manifest"
  | "GET manifest"
  | "PUT manifest"
  | "DELETE manifest"
  | "HEAD blob"
  | "GET blob"
  | "DELETE blob"
  | "POST upload"
  | "PATCH upload"
  | "PUT upload"
  | "GET upload"
  | "DELETE upload"
  | "GET tags"
  | "GET catalog"
  | "GET referrers"
  | "other";

/** One HTTP request as sent: a retried request is observed once per send. */
export interface RequestObservation {
  method: string;
  endpoint: EndpointName;
  /** 0 when no response arrived (connection error, timeout, abort). */
  status: number;
  /** Why there was no response, or why the response body failed mid-way. */
  error?: string;
  bytesSent: number;
  bytesReceived: number;
  /** performance.now() when the request was handed to fetch. */
  start: number;
  /** Until the response headers arrived (or the failure). */
  ttfbMs: number;
  /** Until the response body was fully read, cancelled or failed. */
  totalMs: number;
}

export type RequestObserver = (o: RequestObservation) => void;

const NAMED = new Set<string>([
  "HEAD manifest",
  "GET manifest",
  "PUT manifest",
  "DELETE manifest",
  "HEAD blob",
  "GET blob",
  "DELETE blob",
  "POST upload",
  "PATCH upload",
  "PUT upload",
  "GET upload",
  "DELETE upload",
]);

/** Names a registry API request by method and path (the distribution spec's endpoint table). */
export function endpointOf(method: string, url: string): EndpointName {
  // the path of an absolute URL without parsing it (this runs for every request observed)
  const q = url.indexOf("?");
  const noQuery = q < 0 ? url : url.slice(0, q);
  const slash = noQuery.indexOf("/", noQuery.indexOf("://") + 3);
  const path = slash < 0 ? "/" : noQuery.slice(slash);
  if (path === "/v2/" || path === "/v2") return method === "GET" ? "GET /v2/" : "other";
  if (path === "/v2/_catalog") return method === "GET" ? "GET catalog" : "other";
  let kind: string | undefined;
  if (/\/blobs\/uploads(\/|$)/.test(path)) kind = "upload";
  else if (/\/blobs\/[^/]+$/.test(path)) kind = "blob";
  else if (/\/manifests\/[^/]+$/.test(path)) kind = "manifest";
  else if (/\/tags\/list$/.test(path)) return method === "GET" ? "GET tags" : "other";
  else if (/\/referrers\/[^/]+$/.test(path)) return method === "GET" ? "GET referrers" : "other";
  const name = `${method} ${kind}`;
  return NAMED.has(name) ? (name as EndpointName) : "other";
}
