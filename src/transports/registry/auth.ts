import { ImgxError, q } from "../../core/errors.ts";
import type { Challenge } from "./challenge.ts";

export interface Credentials {
  username: string;
  password: string;
  /** Docker's identitytoken: an OAuth2 refresh token used instead of the password. */
  identityToken?: string;
}

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const DEFAULT_TTL_S = 60;

/** An IPv4-mapped IPv6 address as dotted IPv4: URL writes [::ffff:127.0.0.1] as ::ffff:7f00:1. */
function unmapV4(h: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!hex) return h;
  const [x, y] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${x >> 8}.${x & 255}.${y >> 8}.${y & 255}`;
}

function bare(host: string): string {
  return unmapV4(host.replace(/^\[|\]$/g, "").toLowerCase());
}

/** Hosts that reach this machine: localhost names, 127/8, 0/8 (Linux routes 0.0.0.0 here), ::1, ::. */
export function isLoopbackHost(host: string): boolean {
  const h = bare(host);
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || h === "::" || /^(127|0)\.\d+\.\d+\.\d+$/.test(h);
}

/** Loopback plus RFC 1918, CGNAT 100.64/10, link-local (169.254/16, fe80::/10) and unique-local fc00::/7. */
export function isPrivateHost(host: string): boolean {
  const h = bare(host);
  return (
    isLoopbackHost(h) ||
    /^(10|169\.254|192\.168|172\.(1[6-9]|2\d|3[01])|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7]))\./.test(h) ||
    /^f[cd][0-9a-f]{2}:/.test(h) ||
    /^fe[89ab][0-9a-f]:/.test(h)
  );
}

/**
 * SSRF guard (go-containerregistry's): a registry may not send us, credentials in hand, to a
 * loopback or private address unless that is the registry's own host. A loopback registry may use
 * a loopback token server on another port (the realm is then as local as the registry itself).
 */
export function checkRealm(registryUrl: URL, raw: string | undefined): URL {
  const host = registryUrl.host;
  let url: URL;
  try {
    url = new URL(raw ?? "");
  } catch {
    throw new ImgxError("UNAUTHORIZED", `Cannot authenticate to ${host}: the registry's token realm ${q(raw ?? "")} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ImgxError("UNAUTHORIZED", `Cannot authenticate to ${host}: token realm ${q(raw)} is not http(s)`);
  if (registryUrl.protocol === "https:" && url.protocol === "http:")
    throw new ImgxError("UNAUTHORIZED", `Cannot authenticate to ${host}: refusing a plain-http token realm ${q(url.origin)} for an https registry`);
  const same = bare(url.hostname) === bare(registryUrl.hostname);
  const bothLoopback = isLoopbackHost(url.hostname) && isLoopbackHost(registryUrl.hostname);
  if (!same && !bothLoopback && isPrivateHost(url.hostname))
    throw new ImgxError("UNAUTHORIZED", `Cannot authenticate to ${host}: token realm ${q(url.origin)} is a loopback or private address that is not the registry's own host`);
  return url;
}

/**
 * Turns a registry's challenge into Authorization headers: Basic from credentials, or Bearer
 * tokens fetched from the realm and cached per scope set until they expire.
 */
export class Authenticator {
  private challenge?: Challenge;
  private tokens = new Map<string, { token: string; expires: number }>();
  private pending = new Map<string, Promise<string>>();

  constructor(
    private readonly registryUrl: URL,
    private readonly creds: Credentials | undefined,
    private readonly fixedToken: string | undefined,
    private readonly fetchFn: FetchLike,
    private readonly debug?: (l: string) => void,
  ) {}

  setChallenge(c: Challenge | undefined): void {
    this.challenge = c;
  }

  /** Drops cached tokens for these scopes (after a 401 with them). */
  invalidate(scopes: string[]): void {
    this.tokens.delete(scopes.join(" "));
  }

  async header(scopes: string[]): Promise<string | undefined> {
    if (this.fixedToken) return `Bearer ${this.fixedToken}`;
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === "basic") return this.creds && !this.creds.identityToken ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString("base64")}` : undefined;
    if (c.scheme !== "bearer") return undefined;
    const key = scopes.join(" ");
    const hit = this.tokens.get(key);
    if (hit && hit.expires > Date.now()) return `Bearer ${hit.token}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.fetchToken(c, scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return `Bearer ${await p}`;
  }

  private async fetchToken(c: Challenge, scopes: string[]): Promise<string> {
    const url = checkRealm(this.registryUrl, c.params.realm);
    const headers: Record<string, string> = {};
    let init: RequestInit;
    if (this.creds?.identityToken) {
      // Docker's identitytoken is an OAuth2 refresh token: exchange it with a POST (distribution's token spec)
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.creds.identityToken, client_id: "imgx", service: c.params.service ?? "", scope: scopes.join(" ") });
      headers["content-type"] = "application/x-www-form-urlencoded";
      init = { method: "POST", headers, body: form.toString() };
    } else {
      if (c.params.service) url.searchParams.set("service", c.params.service);
      for (const s of scopes) url.searchParams.append("scope", s);
      if (this.creds) headers.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString("base64")}`;
      init = { method: "GET", headers };
    }
    this.debug?.(`token ${init.method} ${url.origin}${url.pathname} service=${c.params.service ?? ""} scope=${scopes.join(" ")} credentials=${this.creds ? "yes" : "no"}`);
    let res: Response;
    try {
      res = await this.fetchFn(url.toString(), init);
    } catch (e) {
      throw new ImgxError("NETWORK", `Cannot reach token server ${q(url.origin)} for ${this.registryUrl.host}: ${(e as Error).message}`, { cause: e });
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new ImgxError("UNAUTHORIZED", `Cannot authenticate to ${this.registryUrl.host}: the token server refused ${this.creds ? `the credentials of user ${q(this.creds.username)}` : "anonymous access"} (HTTP ${res.status})`, {
        hint: this.creds ? "check the password" : "log in with imgx login or pass --creds",
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ImgxError("REGISTRY", `Cannot get a token for ${this.registryUrl.host}: token server answered HTTP ${res.status}`);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token || body.access_token;
    if (!token) throw new ImgxError("REGISTRY", `Cannot get a token for ${this.registryUrl.host}: the token server's answer has no token`);
    const ttl = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TTL_S;
    // renew a little early so a token never expires mid-request
    this.tokens.set(scopes.join(" "), { token, expires: Date.now() + Math.max(1, ttl - 10) * 1000 });
    return token;
  }
}
