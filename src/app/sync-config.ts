import { ImgxError, q } from "../core/errors.ts";
import { parsePlatform } from "../core/platform.ts";
import type { TagFilter } from "../core/tag-filter.ts";
import type { PlatformChoice } from "../copy/select.ts";
import type { SyncEntry } from "./sync.ts";

/**
 * sync.yaml, shaped after regsync's `sync:` list (source/target pairs, tag allow/deny) with skopeo
 * sync's filters (regex, semver), so either file translates line by line:
 *
 *   defaults: { platforms: all, referrers: false }
 *   sync:
 *     - source: registry.example.com/team/app        # a repository, one tag, a whole registry, or oci:DIR
 *       target: mirror.local:5000/team/app
 *       tags: { regex: ["1\\..*"], exclude: [".*-rc.*"], semver: ">=1.2", latest: 3 }
 *     - source: registry.example.com
 *       target: oci:/media/usb/bundle
 *       repos: ["team/.*"]
 *
 * Credentials are not read from this file: they come from the flags and Docker's config.json per
 * registry, so the file can be committed. Unknown keys are errors (a typo must not widen a mirror).
 */
export function parseSyncConfig(text: string, file: string): SyncEntry[] {
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch (e) {
    throw new ImgxError("USAGE", `Cannot read ${q(file)}: ${(e as Error).message}`);
  }
  const top = obj(doc, file, ["defaults", "sync", "version"]);
  const defaults = top.defaults === undefined ? {} : obj(top.defaults, `${file}: defaults`, ["platforms", "referrers", "tags"]);
  if (!Array.isArray(top.sync) || top.sync.length === 0) throw new ImgxError("USAGE", `Cannot read ${q(file)}: expected a non-empty list under "sync:"`);
  return top.sync.map((raw, i) => {
    const where = `${file}: sync[${i}]`;
    const e = obj(raw, where, ["source", "target", "repos", "tags", "platforms", "referrers"]);
    const entry: SyncEntry = { src: str(e.source, `${where}.source`), dst: str(e.target, `${where}.target`) };
    if (e.repos !== undefined) entry.repos = strList(e.repos, `${where}.repos`);
    const tags = e.tags ?? defaults.tags;
    if (tags !== undefined) entry.tags = tagFilter(tags, `${where}.tags`);
    entry.platforms = platforms(e.platforms ?? defaults.platforms ?? "all", `${where}.platforms`);
    const ref = e.referrers ?? defaults.referrers;
    if (ref !== undefined && typeof ref !== "boolean") throw new ImgxError("USAGE", `Cannot read ${where}.referrers: expected true or false`);
    entry.referrers = ref as boolean | undefined;
    return entry;
  });
}

function obj(v: unknown, where: string, keys: string[]): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ImgxError("USAGE", `Cannot read ${where}: expected a mapping`);
  const unknown = Object.keys(v).filter((k) => !keys.includes(k));
  if (unknown.length) throw new ImgxError("USAGE", `Cannot read ${where}: unknown key ${q(unknown[0])} (expected ${keys.join(", ")})`);
  return v as Record<string, unknown>;
}

function str(v: unknown, where: string): string {
  // YAML reads 1.10 as the number 1.1: a tag or name must be quoted to survive
  if (typeof v === "number") throw new ImgxError("USAGE", `Cannot read ${where}: ${v} is a number; quote it ("${v}") so YAML keeps it as written`);
  if (typeof v !== "string" || !v) throw new ImgxError("USAGE", `Cannot read ${where}: expected a string`);
  return v;
}

function strList(v: unknown, where: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x, i) => str(x, `${where}[${i}]`));
}

function tagFilter(v: unknown, where: string): TagFilter {
  // regsync says allow/deny; skopeo sync says regex/semver: both spellings work
  const t = obj(v, where, ["regex", "allow", "exclude", "deny", "semver", "latest"]);
  const f: TagFilter = {};
  const regex = [...(t.regex !== undefined ? strList(t.regex, `${where}.regex`) : []), ...(t.allow !== undefined ? strList(t.allow, `${where}.allow`) : [])];
  const exclude = [...(t.exclude !== undefined ? strList(t.exclude, `${where}.exclude`) : []), ...(t.deny !== undefined ? strList(t.deny, `${where}.deny`) : [])];
  if (regex.length) f.regex = regex;
  if (exclude.length) f.exclude = exclude;
  if (t.semver !== undefined) f.semver = str(t.semver, `${where}.semver`);
  if (t.latest !== undefined) {
    if (typeof t.latest !== "number" || !Number.isInteger(t.latest) || t.latest < 1) throw new ImgxError("USAGE", `Cannot read ${where}.latest: expected a whole number, at least 1`);
    f.latest = t.latest;
  }
  return f;
}

function platforms(v: unknown, where: string): PlatformChoice {
  if (v === "all") return { all: true };
  const list = strList(v, where).flatMap((s) => s.split(",")).map((s) => s.trim());
  if (list.includes("all")) return { all: true };
  return { all: false, platforms: list.map(parsePlatform) };
}
