import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ImgxError, q } from "../core/errors.ts";

/** Who may open the page: one user:pass (--auth) or an htpasswd file of bcrypt entries (--auth-file). */
export interface PageAuth {
  user?: string;
  pass?: string;
  htpasswd?: Map<string, string>;
}

export function parseAuthFlag(v: string): PageAuth {
  const i = v.indexOf(":");
  if (i <= 0 || i === v.length - 1) throw new ImgxError("USAGE", "Cannot use --auth: expected user:password");
  return { user: v.slice(0, i), pass: v.slice(i + 1) };
}

/** Reads an htpasswd file; only bcrypt entries (htpasswd -B) are accepted: the others are weak or unsalted. */
export function readHtpasswd(path: string): PageAuth {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ImgxError("USAGE", `Cannot read --auth-file ${q(path)}: ${(e as Error).message}`);
  }
  const map = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, n) => {
    if (!line.trim() || line.startsWith("#")) return;
    const i = line.indexOf(":");
    const hash = line.slice(i + 1).trim();
    if (i <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash))
      throw new ImgxError("USAGE", `Cannot use --auth-file ${q(path)}: line ${n + 1} is not a bcrypt entry (create it with htpasswd -B)`);
    map.set(line.slice(0, i), hash);
  });
  if (map.size === 0) throw new ImgxError("USAGE", `Cannot use --auth-file ${q(path)}: it has no entries`);
  return { htpasswd: map };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Checks HTTP Basic credentials against the page auth. bcrypt costs milliseconds per check and every
 * chunk carries the header, so a header that verified once is remembered (as its sha256, for this
 * server's lifetime only).
 */
export class Gate {
  private readonly good = new Set<string>();
  readonly csrf = randomBytes(32).toString("hex");
  constructor(private readonly auth?: PageAuth) {}

  get enabled(): boolean {
    return !!this.auth;
  }

  async allows(header: string | null): Promise<boolean> {
    if (!this.auth) return true;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
    if (!m) return false;
    const key = new Bun.CryptoHasher("sha256").update(m[1]!).digest("hex");
    if (this.good.has(key)) return true;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0) return false;
    const user = decoded.slice(0, i);
    const pass = decoded.slice(i + 1);
    let ok = false;
    if (this.auth.user !== undefined) ok = same(user, this.auth.user) && same(pass, this.auth.pass ?? "");
    else {
      const hash = this.auth.htpasswd?.get(user);
      ok = hash ? await Bun.password.verify(pass, hash).catch(() => false) : false;
    }
    if (ok) this.good.add(key);
    return ok;
  }

  /**
   * State-changing requests carry the token the page got from /api/config (a cross-site form or
   * script cannot read it) and, when the browser says where it comes from, our own origin.
   */
  csrfOk(req: Request): boolean {
    const token = req.headers.get("x-csrf-token") ?? "";
    if (!same(token, this.csrf)) return false;
    const origin = req.headers.get("origin");
    if (origin && origin !== "null") {
      const host = req.headers.get("host");
      try {
        if (new URL(origin).host !== host) return false;
      } catch {
        return false;
      }
    }
    return true;
  }
}

export const SECURITY_HEADERS: Record<string, string> = {
  // hash-wasm compiles its WebAssembly from an inline module: 'wasm-unsafe-eval' and nothing more
  "content-security-policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
};
