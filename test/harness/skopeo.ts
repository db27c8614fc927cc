// skopeo as the reference peer: what it reads back from a registry is what other tools will see.
// A missing skopeo throws (tests fail, never skip).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// an empty auth file keeps the developer's own ~/.docker or containers auth out of the tests
const AUTH_DIR = mkdtempSync(join(tmpdir(), "imgx-skopeo-"));
const AUTH_FILE = join(AUTH_DIR, "auth.json");
writeFileSync(AUTH_FILE, JSON.stringify({ auths: {} }));
process.once("exit", () => rmSync(AUTH_DIR, { recursive: true, force: true }));

export interface SkopeoCreds {
  /** "user:password"; passed as an argument to a local process only, never logged by us. */
  creds?: string;
  tlsVerify?: boolean;
}

export async function skopeo(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  if (!Bun.which("skopeo")) throw new Error("skopeo is not installed; the test suite needs it (apt-get install -y skopeo)");
  const p = Bun.spawn(["skopeo", ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, REGISTRY_AUTH_FILE: AUTH_FILE } });
  const timer = setTimeout(() => p.kill(), opts.timeoutMs ?? 60_000);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`skopeo ${redact(args).join(" ")} failed (exit ${code}): ${redact([err.trim()])[0]}`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** Error messages must not carry passwords even in test output. */
function redact(args: string[]): string[] {
  return args.map((a, i) => (/^--(src-|dest-)?creds$/.test(args[i - 1] ?? "") ? a.replace(/:.*/, ":***") : a.replace(/^(--(?:src-|dest-)?creds=[^:]*):.*/, "$1:***")));
}

function authFlags(prefix: "" | "src-" | "dest-", o: SkopeoCreds): string[] {
  const f = [`--${prefix}tls-verify=${o.tlsVerify ?? false}`];
  if (o.creds) f.push(`--${prefix}creds`, o.creds);
  return f;
}

/** The manifest digest skopeo sees for docker://REF (its own sha256 of the raw manifest bytes). */
export async function skopeoInspectDigest(ref: string, o: SkopeoCreds = {}): Promise<string> {
  const raw = await skopeo(["inspect", "--raw", ...authFlags("", o), `docker://${ref.replace(/^docker:\/\//, "")}`]);
  return `sha256:${new Bun.CryptoHasher("sha256").update(raw).digest("hex")}`;
}

/** skopeo inspect's JSON (Digest, Architecture, Layers, …). */
export async function skopeoInspect(ref: string, o: SkopeoCreds = {}): Promise<Record<string, unknown>> {
  return JSON.parse(await skopeo(["inspect", ...authFlags("", o), `docker://${ref.replace(/^docker:\/\//, "")}`]));
}

export interface CopyFlags {
  src?: SkopeoCreds;
  dest?: SkopeoCreds;
  all?: boolean;
  format?: "oci" | "v2s2";
  extra?: string[];
}

/** skopeo copy SRC DST with TLS/creds flags only for the docker:// ends (skopeo rejects them elsewhere). */
export async function skopeoCopy(src: string, dst: string, flags: CopyFlags = {}): Promise<void> {
  const args = ["copy", "-q"];
  if (flags.all) args.push("--all");
  if (flags.format) args.push("--format", flags.format);
  if (src.startsWith("docker://")) args.push(...authFlags("src-", flags.src ?? {}));
  if (dst.startsWith("docker://")) args.push(...authFlags("dest-", flags.dest ?? {}));
  await skopeo([...args, ...(flags.extra ?? []), src, dst]);
}

/**
 * skopeo copies docker://REF (plain HTTP or unverified TLS) into `dir:` and each gzip layer is
 * un-gzipped and hashed: what another client of the registry gets, as diff_ids, beside the diff_ids
 * the pulled config lists. `dir` is left in place for further checks.
 */
export async function skopeoPulledDiffIds(ref: string, dir: string): Promise<{ layers: string[]; config: string[] }> {
  await skopeo(["copy", "--src-tls-verify=false", `docker://${ref}`, `dir:${dir}`], { timeoutMs: 120_000 });
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const layers: string[] = [];
  for (const l of manifest.layers) {
    const h = new Bun.CryptoHasher("sha256");
    for await (const c of Bun.file(join(dir, l.digest.slice(7))).stream().pipeThrough(new DecompressionStream("gzip"))) h.update(c);
    layers.push(`sha256:${h.digest("hex")}`);
  }
  const config = JSON.parse(readFileSync(join(dir, manifest.config.digest.slice(7)), "utf8")).rootfs.diff_ids as string[];
  return { layers, config };
}
