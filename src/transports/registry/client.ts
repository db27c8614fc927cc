import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { Attempts } from "../../core/attempts.ts";
import { ImgxError, q } from "../../core/errors.ts";
import { Permits } from "../../core/limit.ts";
import { registryHost } from "../../core/reference.ts";
import type { RegistryOptions } from "./options.ts";
import { Authenticator, isLoopbackHost } from "./auth.ts";
import { parseWwwAuthenticate } from "./challenge.ts";
import { lookupCredentials } from "./credentials.ts";
import { send, type HttpConfig } from "./http.ts";
import { redactHeaders, redactUrl } from "./redact.ts";
import { DEADLINE_TIMEOUTS, NO_RETRY, RETRY_STATUS, retryDelay } from "./retry.ts";
export { registryError } from "./errors.ts";

export interface RequestInit2 {
  method: string;
  headers?: Record<string, string>;
  body?: RequestInit["body"] | ReadableStream<Uint8Array> | null;
  repo: string;
  actions: ("pull" | "push")[];
  extraScopes?: string[];
  idempotent?: boolean;
  signal?: AbortSignal;
  /** The send budget of the logical request this belongs to (shared with a caller that repeats it). */
  attempts?: Attempts;
}

const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH/i;

/** Loopback registries ("localhost:5000", "127.0.0.1", "[::1]:5000", "::1") may fall back to plain HTTP. */
export function isLoopback(host: string): boolean {
  // an unbracketed IPv6 literal has no port; anything else is "name[:port]" or "[v6][:port]"
  const name = host.includes("]") || host.split(":").length <= 2 ? host.replace(/:\d+$/, "") : host;
  return isLoopbackHost(name);
}

/**
 * One HTTP layer per registry: scheme choice (HTTPS, loopback falls back to HTTP only when the
 * server does not speak TLS), auth with one token cache, its own keep-alive pool and connection
 * budget, one retry policy for idempotent requests, redirects that never carry Authorization to
 * another host, idle timeouts, a redacted trace and a per-request observer.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private base?: Promise<URL>;
  private auth?: Authenticator;
  private readonly retries: number;
  private readonly timeoutMs: number;
  private readonly http: HttpConfig;

  constructor(registry: string, private readonly opts: RegistryOptions) {
    this.registry = registry;
    this.host = registryHost(registry);
    this.retries = opts.retries ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const tls: Record<string, unknown> = {};
    if (opts.tlsVerify === false) tls.rejectUnauthorized = false;
    if (opts.caFile) {
      try {
        // Bun's `ca` replaces the system roots: keep them and add the private CA.
        tls.ca = [...rootCertificates, readFileSync(opts.caFile, "utf8")];
      } catch (e) {
        throw new ImgxError("USAGE", `Cannot read --ca-file ${q(opts.caFile)}: ${(e as Error).message}`);
      }
    }
    const session = new Bun.FetchSession({ tls: Object.keys(tls).length ? tls : undefined, keepAlive: { maxIdleSockets: Math.max(8, opts.maxConnections ?? 64) } });
    this.http = { host: this.host, timeoutMs: this.timeoutMs, session, observer: opts.observer, permits: opts.maxConnections ? new Permits(opts.maxConnections) : undefined };
  }

  private trace(l: string): void {
    this.opts.debug?.(l);
  }

  /** One send, no auth, no retry, no redirect (the token fetch and tests use it). */
  raw = (url: string, init: RequestInit): Promise<Response> => send(this.http, url, init);

  /** Closes the idle connections of this client's pool. */
  close(): void {
    this.http.session.close();
  }

  private netError(e: unknown, url: string): ImgxError {
    const err = e as Error & { code?: string };
    const msg = String(err.message ?? e).replace(/\s+/g, " ");
    const detail = err.code && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
    if (CERT_ERROR.test(detail))
      return new ImgxError("TLS", `Cannot connect to ${this.host}: TLS certificate not trusted (${detail})`, { hint: "pass --ca-file, or --tls-verify=false to skip verification", cause: e });
    return new ImgxError("NETWORK", `Cannot connect to ${this.host} (${redactUrl(new URL(url).origin)}): ${detail}`, { cause: e });
  }

  /** Pings /v2/ once to pick the scheme and learn the auth challenge. */
  baseUrl(): Promise<URL> {
    this.base ??= this.ping().catch((e) => {
      this.base = undefined;
      throw e;
    });
    return this.base;
  }

  /** Until when (Date.now()) the registry asked to be left alone by a Retry-After. */
  private pausedUntil = 0;

  private newAttempts(): Attempts {
    return new Attempts(this.retries, DEADLINE_TIMEOUTS * this.timeoutMs);
  }

  /**
   * The one retry loop: sends until a response that is not a retryable status, or an error that is
   * not a retryable connection failure, or until `attempts` is spent. `fallback` marks an https
   * probe with an http scheme still to try: its connection errors are answers, not faults.
   */
  private async withRetries(method: string, url: string, attempts: Attempts, retryable: boolean, once: () => Promise<Response>, signal?: AbortSignal, fallback = false): Promise<Response> {
    for (;;) {
      // a registry that asked one request to wait (429/503 + Retry-After) gets no others meanwhile:
      // a sync of many images must not keep hammering it from its other connections
      const hold = this.pausedUntil - Date.now();
      if (hold > 0) await Bun.sleep(hold);
      let res: Response;
      try {
        res = await once();
      } catch (e) {
        if (e instanceof ImgxError) throw e;
        // the caller gave up (Ctrl-C, a failed sibling): its reason, untouched and never retried
        if (signal?.aborted) throw signal.reason;
        const ne = this.netError(e, url);
        if (ne.code === "NETWORK" && retryable && !fallback && !NO_RETRY.test(ne.message) && attempts.retry()) {
          await Bun.sleep(retryDelay(attempts.retried - 1));
          continue;
        }
        throw ne;
      }
      if (retryable && RETRY_STATUS.has(res.status) && attempts.retry()) {
        const wait = retryDelay(attempts.retried - 1, res);
        if (res.headers.has("retry-after")) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + wait);
        await res.body?.cancel();
        this.trace(`retrying ${method} after HTTP ${res.status} in ${Math.round(wait)} ms`);
        await Bun.sleep(wait);
        continue;
      }
      return res;
    }
  }

  private async ping(): Promise<URL> {
    const schemes = this.opts.plainHttp ? ["http"] : isLoopback(this.host) ? ["https", "http"] : ["https"];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}://${this.host}/`);
      const url = `${base.origin}/v2/`;
      let res: Response;
      try {
        // a busy registry's 503/429 on the ping is as transient as on any other GET
        res = await this.withRetries("GET", url, this.newAttempts(), true, async () => {
          this.trace(`> GET ${url}`);
          const r = await this.raw(url, { method: "GET" });
          this.trace(`< ${r.status} ${url}`);
          return r;
        }, undefined, scheme === "https" && schemes.length > 1);
      } catch (e) {
        if ((e as ImgxError).code === "TLS") throw e;
        lastErr = e;
        // a plain-HTTP server answers a TLS hello with garbage: that's "try http", not "retry"
        continue;
      }
      await res.body?.cancel();
      const creds = await lookupCredentials(this.registry, this.opts);
      this.auth = new Authenticator(base, creds, this.opts.registryToken, (u, init) => send(this.http, u, init, "GET token"), this.opts.debug);
      const www = res.headers.get("www-authenticate");
      if (res.status === 401 && www) this.auth.setChallenge(pickChallenge(parseWwwAuthenticate(www)));
      else if (res.status >= 500) throw new ImgxError("REGISTRY", `Cannot use registry ${this.host}: /v2/ answered HTTP ${res.status}`);
      else if (res.status === 404) throw new ImgxError("REGISTRY", `Cannot use ${this.host}: it does not serve the registry API (/v2/ answered 404)`);
      else if (res.status === 400 && scheme === "http")
        // Go's TLS servers answer a plain-HTTP request with 400 "client sent an HTTP request to an HTTPS server"
        throw new ImgxError("REGISTRY", `Cannot use ${this.host} over plain HTTP: /v2/ answered HTTP 400 (is it an HTTPS server?)`, { hint: "drop --plain-http" });
      return base;
    }
    throw lastErr;
  }

  async resolveUrl(location: string): Promise<string> {
    return new URL(location, await this.baseUrl()).toString();
  }

  /**
   * Sends a registry API request with auth; retries idempotent, replayable ones on connection
   * errors, 5xx and 429 within `init.attempts` (or a fresh budget of `retries`), and once more
   * after a 401 that brings a new challenge.
   */
  async fetch(pathOrUrl: string, init: RequestInit2): Promise<Response> {
    const base = await this.baseUrl();
    // An empty repo asks for no repository scope (login checks only the credentials, as docker login does).
    let scopes = [...(init.repo ? [`repository:${init.repo}:${init.actions.join(",")}`] : []), ...(init.extraScopes ?? [])];
    const idempotent = init.idempotent ?? (init.method === "GET" || init.method === "HEAD");
    const replayable = !(init.body instanceof ReadableStream);
    const attempts = init.attempts ?? this.newAttempts();
    const url = new URL(pathOrUrl, base).toString();
    let authRetried = false;
    for (;;) {
      const res = await this.withRetries(init.method, url, attempts, idempotent && replayable, () => this.follow(url, init, scopes, base), init.signal);
      if (res.status !== 401) return res;
      // Learn the new challenge even when this request can't be replayed, so the caller's next try authenticates.
      const www = res.headers.get("www-authenticate");
      const challenge = www ? pickChallenge(parseWwwAuthenticate(www)) : undefined;
      if (challenge) this.auth!.setChallenge(challenge);
      this.auth!.invalidate(scopes);
      // the registry may say which scope it wants (e.g. insufficient_scope): ask for that too on the retry
      const wanted = challenge?.params.scope?.split(" ").filter((x) => x && !scopes.includes(x)) ?? [];
      if (wanted.length && !authRetried) scopes = [...scopes, ...wanted];
      if (authRetried || !replayable || !challenge) return res;
      authRetried = true;
      await res.body?.cancel();
    }
  }

  /** Sends one request, following redirects by hand; Authorization goes only to the registry's own origin. */
  private async follow(url: string, init: RequestInit2, scopes: string[], base: URL): Promise<Response> {
    let current = url;
    let method = init.method;
    let body = init.body;
    for (let hop = 0; hop < 6; hop++) {
      const headers: Record<string, string> = { ...init.headers };
      // same origin ⇔ the normalised URL starts with "<origin>/" (no URL parse per request)
      if (current.startsWith(`${base.origin}/`)) {
        const a = await this.auth!.header(scopes);
        if (a) headers.authorization = a;
      }
      // the trace lines are built only when someone reads them (redaction costs µs per request)
      if (this.opts.debug) this.trace(`> ${method} ${redactUrl(current)} ${redactHeaders(headers)}`);
      const res = await this.raw(current, { method, headers, body: body as Blob | null | undefined, signal: init.signal } as RequestInit);
      if (this.opts.debug) this.trace(`< ${res.status} ${redactUrl(current)} ${redactHeaders(pick(res.headers))}`);
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      const loc = res.headers.get("location");
      await res.body?.cancel();
      if (!loc) return res;
      if (body instanceof ReadableStream && (res.status === 307 || res.status === 308))
        throw new ImgxError("REGISTRY", `Cannot ${method} ${redactUrl(url)}: the registry redirected a streamed upload, which can't be sent twice`);
      current = new URL(loc, current).toString();
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
    }
    throw new ImgxError("REGISTRY", `Cannot fetch ${redactUrl(url)}: too many redirects`);
  }
}

/** Bearer beats Basic when a server offers both: it is what carries scopes. */
function pickChallenge(cs: ReturnType<typeof parseWwwAuthenticate>) {
  return cs.find((c) => c.scheme === "bearer") ?? cs.find((c) => c.scheme === "basic") ?? cs[0];
}

function pick(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["content-type", "content-length", "docker-content-digest", "location", "range", "www-authenticate"]) {
    const v = h.get(k);
    if (v) out[k] = v;
  }
  return out;
}
