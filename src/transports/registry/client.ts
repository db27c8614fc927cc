import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import pkg from "../../../package.json" with { type: "json" };
import { ImgxError, q } from "../../core/errors.ts";
import { registryHost } from "../../core/reference.ts";
import type { RegistryOptions } from "../types.ts";
import { Authenticator, isLoopbackHost } from "./auth.ts";
import { parseWwwAuthenticate } from "./challenge.ts";
import { lookupCredentials } from "./credentials.ts";
import { redactHeaders, redactUrl } from "./redact.ts";
import { watchedBody, withIdleTimeout } from "./timeout.ts";
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
}

const USER_AGENT = `imgx/${pkg.version}`;
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH/i;
/** Name resolution failures don't heal in a second: retrying them only delays the error. */
const NO_RETRY = /ENOTFOUND|DNS|getaddrinfo/i;
/** Retries of one request stop after this many timeouts' worth of time, whatever `retries` says. */
const DEADLINE_TIMEOUTS = 10;

/** Loopback registries ("localhost:5000", "127.0.0.1", "[::1]:5000", "::1") may fall back to plain HTTP. */
export function isLoopback(host: string): boolean {
  // an unbracketed IPv6 literal has no port; anything else is "name[:port]" or "[v6][:port]"
  const name = host.includes("]") || host.split(":").length <= 2 ? host.replace(/:\d+$/, "") : host;
  return isLoopbackHost(name);
}

/**
 * One HTTP layer per registry: scheme choice (HTTPS, loopback falls back to HTTP only when the
 * server does not speak TLS), auth, retries of idempotent requests, redirects that never carry
 * Authorization to another host, idle timeouts, and a redacted trace.
 */
export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private base?: Promise<URL>;
  private auth?: Authenticator;
  private readonly tls: Record<string, unknown> | undefined;
  private readonly retries: number;
  private readonly timeoutMs: number;

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
    this.tls = Object.keys(tls).length ? tls : undefined;
  }

  private trace(l: string): void {
    this.opts.debug?.(l);
  }

  /**
   * Raw fetch with TLS options and timeouts; never follows redirects itself. The timeout is an idle
   * timer, not a deadline: it restarts with every request-body chunk sent and every response chunk
   * read, so a 32 MiB PATCH fed by a slow source is not cut off while bytes still move. The wait for
   * response headers starts once the body is sent.
   */
  raw = async (url: string, init: RequestInit): Promise<Response> => {
    const ctl = new AbortController();
    const outer = init.signal;
    if (outer?.aborted) throw outer.reason;
    outer?.addEventListener("abort", () => ctl.abort(outer.reason), { once: true });
    const secs = this.timeoutMs / 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (why: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => ctl.abort(new Error(why)), this.timeoutMs);
    };
    arm(`no response within ${secs}s`);
    try {
      const headers: Record<string, string> = { "user-agent": USER_AGENT, ...(init.headers as Record<string, string> | undefined) };
      const body = watchedBody(init.body, headers, {
        sent: () => arm(`request body stalled for ${secs}s (the server stopped reading)`),
        waiting: () => clearTimeout(timer),
        end: () => arm(`no response within ${secs}s`),
      });
      const res = await fetch(url, { ...init, headers, body, signal: ctl.signal, redirect: "manual", tls: this.tls, decompress: false, keepalive: true, duplex: body instanceof ReadableStream ? "half" : undefined } as RequestInit);
      return withIdleTimeout(res, this.timeoutMs, ctl, this.host);
    } finally {
      clearTimeout(timer);
    }
  };

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

  private async ping(): Promise<URL> {
    const schemes = this.opts.plainHttp ? ["http"] : isLoopback(this.host) ? ["https", "http"] : ["https"];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const base = new URL(`${scheme}://${this.host}/`);
      let res: Response | undefined;
      for (let attempt = 0; ; attempt++) {
        try {
          this.trace(`> GET ${base.origin}/v2/`);
          res = await this.raw(`${base.origin}/v2/`, { method: "GET" });
          this.trace(`< ${res.status} ${base.origin}/v2/`);
          // a busy registry's 503/429 on the ping is as transient as on any other GET
          if (RETRY_STATUS.has(res.status) && attempt < this.retries) {
            const wait = retryAfter(res.headers.get("retry-after")) ?? backoff(attempt);
            await res.body?.cancel();
            this.trace(`retrying GET /v2/ after HTTP ${res.status} in ${Math.round(wait)} ms`);
            await Bun.sleep(wait);
            continue;
          }
          break;
        } catch (e) {
          const ne = this.netError(e, base.toString());
          if (ne.code === "TLS") throw ne;
          lastErr = ne;
          // a plain-HTTP server answers a TLS hello with garbage: that's "try http", not "retry"
          if (scheme === "https" && schemes.length > 1) break;
          if (attempt >= this.retries || NO_RETRY.test(ne.message)) throw ne;
          await Bun.sleep(backoff(attempt));
        }
      }
      if (!res) continue;
      await res.body?.cancel();
      const creds = await lookupCredentials(this.registry, this.opts);
      this.auth = new Authenticator(base, creds, this.opts.registryToken, this.raw, this.opts.debug);
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

  async fetch(pathOrUrl: string, init: RequestInit2): Promise<Response> {
    const base = await this.baseUrl();
    // An empty repo asks for no repository scope (login checks only the credentials, as docker login does).
    let scopes = [...(init.repo ? [`repository:${init.repo}:${init.actions.join(",")}`] : []), ...(init.extraScopes ?? [])];
    const idempotent = init.idempotent ?? (init.method === "GET" || init.method === "HEAD");
    const replayable = !(init.body instanceof ReadableStream);
    const started = Date.now();
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      const url = new URL(pathOrUrl, base).toString();
      let res: Response;
      try {
        res = await this.follow(url, init, scopes, base);
      } catch (e) {
        if (e instanceof ImgxError) throw e;
        // the caller gave up (Ctrl-C, a failed sibling): its reason, untouched and never retried
        if (init.signal?.aborted) throw init.signal.reason;
        const ne = this.netError(e, url);
        if (idempotent && replayable && ne.code === "NETWORK" && !NO_RETRY.test(ne.message) && attempt < this.retries && Date.now() - started < DEADLINE_TIMEOUTS * this.timeoutMs) {
          await Bun.sleep(backoff(attempt));
          continue;
        }
        throw ne;
      }
      if (res.status === 401) {
        // Learn the new challenge even when this request can't be replayed, so the caller's next try authenticates.
        const www = res.headers.get("www-authenticate");
        const challenge = www ? pickChallenge(parseWwwAuthenticate(www)) : undefined;
        if (challenge) this.auth!.setChallenge(challenge);
        this.auth!.invalidate(scopes);
        // the registry may say which scope it wants (e.g. insufficient_scope): ask for that too on the retry
        const wanted = challenge?.params.scope?.split(" ").filter((x) => x && !scopes.includes(x)) ?? [];
        if (wanted.length && !authRetried) scopes = [...scopes, ...wanted];
        if (!authRetried && replayable && challenge) {
          authRetried = true;
          await res.body?.cancel();
          continue;
        }
      }
      if (idempotent && replayable && RETRY_STATUS.has(res.status) && attempt < this.retries && Date.now() - started < DEADLINE_TIMEOUTS * this.timeoutMs) {
        const wait = retryAfter(res.headers.get("retry-after")) ?? backoff(attempt);
        await res.body?.cancel();
        this.trace(`retrying ${init.method} after HTTP ${res.status} in ${Math.round(wait)} ms`);
        await Bun.sleep(wait);
        continue;
      }
      return res;
    }
  }

  /** Sends one request, following redirects by hand; Authorization goes only to the registry's own origin. */
  private async follow(url: string, init: RequestInit2, scopes: string[], base: URL): Promise<Response> {
    let current = url;
    let method = init.method;
    let body = init.body;
    for (let hop = 0; hop < 6; hop++) {
      const headers: Record<string, string> = { ...init.headers };
      if (new URL(current).origin === base.origin) {
        const a = await this.auth!.header(scopes);
        if (a) headers.authorization = a;
      }
      this.trace(`> ${method} ${redactUrl(current)} ${redactHeaders(headers)}`);
      const res = await this.raw(current, { method, headers, body: body as Blob | null | undefined, signal: init.signal } as RequestInit);
      this.trace(`< ${res.status} ${redactUrl(current)} ${redactHeaders(pick(res.headers))}`);
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

function backoff(attempt: number): number {
  return Math.min(10_000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

function retryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(30, Math.max(0, s)) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.min(30_000, Math.max(0, t - Date.now())) : undefined;
}
