import type { RequestObserver } from "./observe.ts";

/** How to reach and talk to one registry: TLS, credentials, retries, timeouts, uploads, observation. */
export interface RegistryOptions {
  tlsVerify?: boolean;
  plainHttp?: boolean;
  caFile?: string;
  username?: string;
  password?: string;
  registryToken?: string;
  debug?: (line: string) => void;
  retries?: number;
  timeoutMs?: number;
  chunkSize?: number;
  uploadMode?: "auto" | "monolithic" | "stream" | "chunked";
  concurrency?: number;
  /** Hears of every HTTP request sent (token fetches and each retry included); costs nothing unset. */
  observer?: RequestObserver;
  /**
   * Most requests in flight at once for this client (a request holds its place until its body is
   * read or cancelled). Unset: no limit of the client's own. Within one registry a copy holds a
   * GET and an upload per blob at once, so keep it at least twice the copy's concurrency.
   */
  maxConnections?: number;
}
