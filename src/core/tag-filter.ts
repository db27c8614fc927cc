import { ImgxError, q } from "./errors.ts";
import { compareVersions, parseRange, parseVersion, satisfies, type Range } from "./semver.ts";

/** Which tags of a repository to take: shared by `imgx tags` and `imgx sync`. */
export interface TagFilter {
  /** Regular expressions a tag must match in full (any of them); anchored like skopeo sync's and regsync's. */
  regex?: string[];
  /** A semver range (see core/semver.ts); tags that are not versions never match. */
  semver?: string;
  /** Keep only the N highest versions left after the other filters; tags that are not versions are dropped. */
  latest?: number;
  /** Regular expressions for tags to leave out. */
  exclude?: string[];
}

export interface CompiledTagFilter {
  (tags: string[]): string[];
  /** Whether any filter is set (no filter keeps every tag). */
  readonly active: boolean;
}

function compileRegex(src: string, flag: string): RegExp {
  try {
    return new RegExp(`^(?:${src})$`);
  } catch (e) {
    throw new ImgxError("USAGE", `Cannot use ${flag} ${q(src)}: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`);
  }
}

/** Validates the filter once (bad regex / range / count → USAGE) and returns the function applying it. */
export function compileTagFilter(f: TagFilter): CompiledTagFilter {
  const include = (f.regex ?? []).map((r) => compileRegex(r, "--tags"));
  const exclude = (f.exclude ?? []).map((r) => compileRegex(r, "--exclude-tags"));
  const range: Range | undefined = f.semver !== undefined ? parseRange(f.semver) : undefined;
  if (f.latest !== undefined && (!Number.isInteger(f.latest) || f.latest < 1)) throw new ImgxError("USAGE", `Cannot use --latest ${q(f.latest)}: expected a whole number of tags, at least 1`);
  const apply = (tags: string[]): string[] => {
    let out = tags.filter((t) => (!include.length || include.some((r) => r.test(t))) && !exclude.some((r) => r.test(t)));
    if (range) out = out.filter((t) => {
      const v = parseVersion(t);
      return v !== undefined && satisfies(v, range);
    });
    if (f.latest !== undefined) {
      const versions = out.flatMap((t) => {
        const v = parseVersion(t);
        return v ? [{ t, v }] : [];
      });
      // highest first; equal versions ("1.2" and "v1.2.0") keep the tag order the registry gave
      versions.sort((a, b) => compareVersions(b.v, a.v));
      const keep = new Set(versions.slice(0, f.latest).map((x) => x.t));
      out = out.filter((t) => keep.has(t));
    }
    return out;
  };
  return Object.assign(apply, { active: include.length > 0 || exclude.length > 0 || range !== undefined || f.latest !== undefined });
}

