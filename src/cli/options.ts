import type { Command } from "cac";
import { ImgxError, q } from "../core/errors.ts";
import type { Compression, Family } from "../core/media-types.ts";
import { hostPlatform, parsePlatform, formatPlatform } from "../core/platform.ts";
import type { TagFilter } from "../core/tag-filter.ts";
import { DEFAULT_LEVEL } from "../copy/block-compress.ts";
import type { PlatformChoice } from "../copy/select.ts";
import type { RegistryOptions } from "../transports/types.ts";
import { rawOptionValues } from "./argv.ts";
import type { CliContext } from "./context.ts";

export type Flags = Record<string, unknown>;

export function addOutputFlags(c: Command): Command {
  return c
    .option("--json", "Machine-readable output: NDJSON events on stdout")
    .option("-q, --quiet", "Print nothing but errors")
    .option("--debug", "Trace registry requests (secrets redacted) and show error causes");
}

export function addRegistryFlags(c: Command, prefixes: string[] = [""]): Command {
  c.option("--insecure", "Skip TLS certificate verification")
    .option("--tls-verify <bool>", "skopeo's spelling: --tls-verify=false equals --insecure")
    .option("--plain-http", "Use HTTP instead of HTTPS")
    .option("--ca-file <path>", "Trust this PEM CA in addition to the system roots")
    .option("-u, --username <user>", "Registry user name")
    .option("--password <password>", "Registry password (prefer --password-stdin)")
    .option("--password-stdin", "Read the password from stdin")
    .option("--creds <user:password>", "Credentials as user:password")
    .option("--registry-token <token>", "Bearer token to use as is")
    .option("--retries <n>", "Retries for idempotent requests (default 3)")
    .option("--timeout <seconds>", "Connect/idle timeout per request (default 30)");
  for (const p of prefixes.filter(Boolean)) c.option(`--${p}creds <user:password>`, `Credentials for the ${p.replace(/-$/, "")} registry`);
  return c;
}

export function addCopyFlags(c: Command): Command {
  return c
    .option("--platform <os/arch[/variant]>", `Platform to pick from a multi-platform image; repeatable or comma-separated; "all" keeps every one (default: ${formatPlatform(hostPlatform())})`)
    .option("--all-platforms", "Copy every platform of an index (alias: --all)")
    .option("--all", "Same as --all-platforms")
    .option("-t, --tag <name>", "Name for the result; repeatable")
    .option("-j, --concurrency <n>", "Blobs moved at once (default 6)")
    .option("--digestfile <file>", "Write the resulting manifest digest to this file")
    .option("--referrers", "Also copy the artifacts that refer to the image (signatures, SBOMs, attestations: OCI 1.1 referrers API or the sha256-<hex> fallback tag)");
}

/** Tag selection shared by `tags` and `sync` (see core/tag-filter.ts). */
export function addTagFilterFlags(c: Command): Command {
  return c
    .option("--tags <regex>", "Only tags matching this regular expression (whole tag); repeatable")
    .option("--exclude-tags <regex>", "Leave out tags matching this regular expression; repeatable")
    .option("--semver <range>", "Only tags that are versions in this range, e.g. '>=1.2', '^2', '~1.4', '>=1.2 <2 || >=3' (\"v1.2\" and \"1.2\" count as 1.2.0)")
    .option("--latest <n>", "Only the N highest versions left after the other filters (tags that are not versions are dropped)");
}

export function tagFilterFlags(argv: string[]): TagFilter {
  const latest = oneString(argv, "latest");
  const n = latest === undefined ? undefined : Number(latest);
  if (latest !== undefined && (!Number.isInteger(n) || n! < 1)) throw new ImgxError("USAGE", `Cannot use --latest ${q(latest)}: expected a whole number of tags, at least 1`);
  return { regex: strings(argv, "tags"), exclude: strings(argv, "exclude-tags"), semver: oneString(argv, "semver"), latest: n };
}

/** The raw string values of an option (never number-coerced), from --x v, --x=v, or their aliases. */
export function strings(argv: string[], ...names: string[]): string[] {
  return rawOptionValues(argv, names);
}

export function oneString(argv: string[], ...names: string[]): string | undefined {
  const v = strings(argv, ...names);
  return v.length ? v[v.length - 1] : undefined;
}

export function platformChoice(argv: string[], flags: Flags): PlatformChoice {
  const raw = strings(argv, "platform").flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  if (flags.allPlatforms || flags.all || raw.includes("all")) return { all: true };
  if (raw.length === 0) return { all: false, platforms: [hostPlatform()] };
  return { all: false, platforms: raw.map(parsePlatform) };
}

export function compressionFlag(argv: string[]): Compression | "keep" | undefined {
  const v = oneString(argv, "compress");
  if (v === undefined) return undefined;
  if (v === "none" || v === "gzip" || v === "zstd" || v === "keep") return v;
  throw new ImgxError("USAGE", `Cannot use --compress ${q(v)}: expected none, gzip, zstd or keep`);
}

export const COMPRESS_LEVEL_HELP = `Level for layers imgx compresses: gzip 1 (fastest) to 12 (smallest), default ${DEFAULT_LEVEL.gzip}; zstd 1 to 22, default ${DEFAULT_LEVEL.zstd}`;

/** --compress-level as a whole number; whether the compressor has that level is checked by the pipeline. */
export function compressLevelFlag(argv: string[]): number | undefined {
  const v = oneString(argv, "compress-level");
  if (v === undefined) return undefined;
  if (!/^\d{1,3}$/.test(v)) throw new ImgxError("USAGE", `Cannot use --compress-level ${q(v)}: expected a whole number (gzip 1–12, zstd 1–22)`);
  return Number(v);
}

export function formatFlag(argv: string[]): Family | undefined {
  const v = oneString(argv, "format");
  if (v === undefined) return undefined;
  if (v === "oci" || v === "docker") return v;
  if (v === "v2s2") return "docker"; // skopeo's name for Docker schema 2
  if (v === "v2s1" || v === "schema1")
    throw new ImgxError("USAGE", `Cannot use --format ${q(v)}: imgx does not write Docker schema 1 (deprecated since 2017; registries refuse it by default); it reads it and converts it`, { hint: "use --format docker (schema 2) or oci" });
  throw new ImgxError("USAGE", `Cannot use --format ${q(v)}: expected oci or docker`);
}

export function intFlag(argv: string[], name: string, short?: string): number | undefined {
  const v = oneString(argv, ...(short ? [name, short] : [name]));
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ImgxError("USAGE", `Cannot use --${name} ${q(v)}: expected a non-negative integer`);
  return n;
}

/** Parses sizes like 8M, 64MiB, 1G, 1048576. */
export function sizeFlag(argv: string[], name: string): number | undefined {
  const v = oneString(argv, name);
  if (v === undefined) return undefined;
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(v.trim());
  if (!m) throw new ImgxError("USAGE", `Cannot use --${name} ${q(v)}: expected a size like 16M or 1048576`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g"];
  return Number(m[1]) * mult;
}

/** Builds registry options from flags; `prefix` picks --src-creds / --dest-creds over the shared ones. */
export async function registryOptions(ctx: CliContext, argv: string[], flags: Flags, prefix = ""): Promise<RegistryOptions> {
  const o: RegistryOptions = {};
  const tv = oneString(argv, "tls-verify");
  if (flags.insecure || tv === "false") o.tlsVerify = false;
  if (flags.plainHttp) o.plainHttp = true;
  o.caFile = oneString(argv, "ca-file");
  let creds = (prefix && oneString(argv, `${prefix}creds`)) || oneString(argv, "creds");
  if (creds) {
    const i = creds.indexOf(":");
    if (i <= 0) throw new ImgxError("USAGE", "Cannot use --creds: expected user:password");
    o.username = creds.slice(0, i);
    o.password = creds.slice(i + 1);
    creds = undefined;
  }
  const user = oneString(argv, "username", "u");
  if (user) o.username = user;
  const pw = oneString(argv, "password");
  if (pw) o.password = pw;
  if (flags.passwordStdin) {
    // stdin can be read once: both sides of a copy get the same password
    ctx.stdinPassword ??= (await Bun.stdin.text()).replace(/\r?\n$/, "");
    o.password = ctx.stdinPassword;
  }
  if (o.password !== undefined && !o.username) throw new ImgxError("USAGE", "Cannot use a password without --username");
  o.registryToken = oneString(argv, "registry-token");
  o.retries = intFlag(argv, "retries");
  const t = intFlag(argv, "timeout");
  if (t !== undefined) o.timeoutMs = t * 1000;
  o.debug = ctx.debug;
  return o;
}
