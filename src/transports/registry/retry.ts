/** The registry client's one retry policy: what is worth another try, and how long to wait first. */

/** Statuses a busy or restarting registry answers; a later try may succeed. */
export const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

/** Name resolution failures don't heal in a second: retrying them only delays the error. */
export const NO_RETRY = /ENOTFOUND|DNS|getaddrinfo/i;

/** Retries of one request stop after this many timeouts' worth of time, whatever `retries` says. */
export const DEADLINE_TIMEOUTS = 10;

/** Exponential backoff with jitter: 200 ms, 400 ms, … capped at 10 s, each scaled by 0.5–1. */
export function backoff(attempt: number): number {
  return Math.min(10_000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** The wait a registry asked for with Retry-After (seconds or an HTTP date), capped at 30 s. */
export function retryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(30, Math.max(0, s)) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.min(30_000, Math.max(0, t - Date.now())) : undefined;
}

/** How long to wait before retry number `attempt` (0-based) after `res` (or a connection error). */
export function retryDelay(attempt: number, res?: Response): number {
  return (res && retryAfter(res.headers.get("retry-after"))) ?? backoff(attempt);
}
