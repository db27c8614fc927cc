// A small Docker token server (JWT, RS256, x5c header) for the registry's token-auth mode.
// Default policy: anonymous may pull repositories under public/; known users may pull and push
// anything (tests may pass their own, e.g. to deny one user another team's repositories).
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One token request as recorded for tests: never the password, only whether credentials came. */
export interface TokenRequest {
  path: string;
  service: string | null;
  scopes: string[];
  user?: string;
  withCredentials: boolean;
  granted: string[];
}

export interface TokenServer {
  url: string;
  certFile: string;
  requests: TokenRequest[];
  stop(): void;
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

/**
 * Actions granted on `repo` to `user` (undefined = anonymous) out of those asked for; null refuses
 * the whole token request with 403, as some token servers do for a scope they won't grant at all.
 */
export type TokenPolicy = (user: string | undefined, repo: string, wanted: string[]) => string[] | null;

/** Anonymous users may pull public/…; users with a valid password may pull and push anything. */
export const defaultPolicy: TokenPolicy = (user, repo, wanted) =>
  user ? wanted.filter((a) => a === "pull" || a === "push" || a === "delete") : repo.startsWith("public/") ? wanted.filter((a) => a === "pull") : [];

export async function startTokenServer(dir: string, users: { name: string; password: string }[], opts: { expiresIn?: number; policy?: TokenPolicy } = {}): Promise<TokenServer> {
  const policy = opts.policy ?? defaultPolicy;
  const gen = Bun.spawn(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "token.key"), "-out", join(dir, "token.pem"), "-days", "2", "-subj", "/CN=imgx test token issuer"], { stdout: "ignore", stderr: "pipe" });
  if ((await gen.exited) !== 0) throw new Error(`openssl: ${await new Response(gen.stderr).text()}`);
  const keyPem = readFileSync(join(dir, "token.key"), "utf8");
  const certPem = readFileSync(join(dir, "token.pem"), "utf8");
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const key = await crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  const x5c = certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const requests: TokenRequest[] = [];

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const scopes = url.searchParams.getAll("scope");
      let user: string | undefined;
      const authz = req.headers.get("authorization");
      if (authz?.startsWith("Basic ")) {
        const [name, ...rest] = Buffer.from(authz.slice(6), "base64").toString().split(":");
        const u = users.find((x) => x.name === name && x.password === rest.join(":"));
        if (!u) {
          requests.push({ path: url.pathname, service: url.searchParams.get("service"), scopes, user: name, withCredentials: true, granted: [] });
          return new Response(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }), { status: 401 });
        }
        user = u.name;
      }
      const access = scopes.flatMap((s) => {
        const m = /^repository:([^:]+):(.+)$/.exec(s);
        if (!m) return [];
        return [{ type: "repository", name: m[1]!, actions: policy(user, m[1]!, m[2]!.split(",")) }];
      });
      if (access.some((a) => a.actions === null)) {
        requests.push({ path: url.pathname, service: url.searchParams.get("service"), scopes, user, withCredentials: !!authz, granted: [] });
        return Response.json({ errors: [{ code: "DENIED", message: "scope refused" }] }, { status: 403 });
      }
      requests.push({ path: url.pathname, service: url.searchParams.get("service"), scopes, user, withCredentials: !!authz, granted: access.map((a) => `${a.name}:${a.actions!.join(",")}`) });
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = opts.expiresIn ?? 300;
      const header = { alg: "RS256", typ: "JWT", x5c: [x5c] };
      const claims = { iss: "imgx-test-issuer", sub: user ?? "", aud: url.searchParams.get("service") ?? "", exp: now + expiresIn, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
      const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
      const sig = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(input)));
      const token = `${input}.${b64url(sig)}`;
      return Response.json({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, certFile: join(dir, "token.pem"), requests, stop: () => server.stop(true) };
}
