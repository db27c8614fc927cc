import { ImgxError, q } from "./errors.ts";

/**
 * A small semver range matcher for image tags. Tags are looser than semver: "v1.2", "1.2" and "1"
 * are versions too (missing parts are 0), so they are coerced before comparing. Ranges follow
 * node-semver's grammar for what people write on the command line: comparators (`>=1.2`, `<2`,
 * `=1.2.3`, `1.2.3`), `^`, `~`, x-ranges (`1.x`, `1.2.*`, `*`), hyphen ranges (`1.2 - 1.4`),
 * whitespace for "and", `||` for "or". Prereleases (`1.3.0-rc1`) match only a comparator set that
 * names a prerelease of the same major.minor.patch, as in node-semver. A range that does not parse
 * is an error (Bun.semver.satisfies silently treats "garbage" as matching everything).
 */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: (string | number)[];
  /** Set on the synthetic "x.y.z-0" bounds a range expands to, so they don't count as a named prerelease. */
  floor?: boolean;
}

const VERSION_RE = /^v?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** A tag read as a version ("v1.2" → 1.2.0), or undefined when it is not one ("latest", "1.2.3.4"). */
export function parseVersion(tag: string): Version | undefined {
  const m = VERSION_RE.exec(tag);
  if (!m) return undefined;
  const pre = m[4] ? m[4].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  if (pre.some((p) => p === "")) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre };
}

/** Semver precedence: <0, 0, >0. */
export function compareVersions(a: Version, b: Version): number {
  const d = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (d) return d;
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length; // a release outranks its prereleases
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return -1;
    if (typeof y === "number") return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Op = "<" | "<=" | ">" | ">=" | "=";
interface Comparator {
  op: Op;
  v: Version;
}
export type Range = Comparator[][];

const PART = "(?:\\d{1,9}|[xX*])";
const PARTIAL_RE = new RegExp(`^v?(${PART})(?:\\.(${PART}))?(?:\\.(${PART}))?(?:-([0-9A-Za-z.-]+))?(?:\\+[0-9A-Za-z.-]+)?$`);

interface Partial {
  parts: (number | undefined)[]; // undefined = wildcard or missing
  pre: (string | number)[];
}

function parsePartial(s: string, range: string): Partial {
  const m = PARTIAL_RE.exec(s);
  if (!m) throw badRange(range, `${q(s)} is not a version`);
  const num = (x?: string) => (x === undefined || /^[xX*]$/.test(x) ? undefined : Number(x));
  const parts = [num(m[1]), num(m[2]), num(m[3])];
  // "1.x.3" is meaningless: after a wildcard everything is a wildcard
  const firstWild = parts.indexOf(undefined);
  if (firstWild >= 0) parts.fill(undefined, firstWild);
  const pre = m[4] && firstWild < 0 ? m[4].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [];
  return { parts, pre };
}

const v = (major: number, minor = 0, patch = 0, pre: (string | number)[] = []): Version => ({ major, minor, patch, pre });
/** The lowest version above every prerelease of x.y.z: used for exclusive upper bounds ("<2" means "<2.0.0-0"). */
const floor = (major: number, minor = 0, patch = 0): Version => ({ ...v(major, minor, patch, [0]), floor: true });

function badRange(range: string, why: string): ImgxError {
  return new ImgxError("USAGE", `Cannot use semver range ${q(range)}: ${why}`, { hint: "e.g. '>=1.2', '^1.4', '~2.0', '1.x', '>=1.2 <2 || >=3'" });
}

/** One comparator token (">=1.2", "^1", "1.x") as the comparators it stands for. */
function expand(token: string, range: string): Comparator[] {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(token)!;
  const op = m[1] ?? "";
  const p = parsePartial(m[2]!, range);
  const [M, mi, pa] = p.parts;
  if (M === undefined) return op === "<" || op === ">" ? [{ op: "<", v: v(0, 0, 0, [0]) }] : []; // "*" matches all; "<*" nothing
  const full = v(M, mi ?? 0, pa ?? 0, p.pre);
  const upper = mi === undefined ? floor(M + 1) : pa === undefined ? floor(M, mi + 1) : undefined;
  switch (op) {
    case "^": {
      const hi = M > 0 || mi === undefined ? floor(M + 1) : mi > 0 || pa === undefined ? floor(0, mi + 1) : floor(0, 0, pa! + 1);
      return [{ op: ">=", v: full }, { op: "<", v: hi }];
    }
    case "~":
      return [{ op: ">=", v: full }, { op: "<", v: mi === undefined ? floor(M + 1) : floor(M, mi + 1) }];
    case ">=":
      return [{ op: ">=", v: full }];
    case ">":
      return upper ? [{ op: ">=", v: upper }] : [{ op: ">", v: full }];
    case "<":
      return [{ op: "<", v: upper ? floor(M, mi ?? 0, pa ?? 0) : full }];
    case "<=":
      return upper ? [{ op: "<", v: upper }] : [{ op: "<=", v: full }];
    default:
      return upper ? [{ op: ">=", v: full }, { op: "<", v: upper }] : [{ op: "=", v: full }];
  }
}

/** Parses a range; throws USAGE naming the range and the part that is wrong. */
export function parseRange(range: string): Range {
  const alternatives = range.split("||").map((s) => s.trim());
  if (!range.trim()) throw badRange(range, "it is empty");
  return alternatives.map((alt) => {
    if (!alt) throw badRange(range, "an alternative around '||' is empty");
    const hy = /^(\S+)\s+-\s+(\S+)$/.exec(alt);
    if (hy) {
      const lo = parsePartial(hy[1]!, range);
      const hi = parsePartial(hy[2]!, range);
      const [M, mi, pa] = hi.parts;
      const out: Comparator[] = [{ op: ">=", v: v(lo.parts[0] ?? 0, lo.parts[1] ?? 0, lo.parts[2] ?? 0, lo.pre) }];
      if (M !== undefined) out.push(mi === undefined ? { op: "<", v: floor(M + 1) } : pa === undefined ? { op: "<", v: floor(M, mi + 1) } : { op: "<=", v: v(M, mi, pa, hi.pre) });
      return out;
    }
    // ">= 1.2" is one comparator: glue an operator to the version after it
    const tokens = alt.replace(/(\^|~|>=|<=|>|<|=)\s+/g, "$1").split(/\s+/);
    return tokens.flatMap((t) => expand(t, range));
  });
}

function test(c: Comparator, x: Version): boolean {
  const d = compareVersions(x, c.v);
  return c.op === "<" ? d < 0 : c.op === "<=" ? d <= 0 : c.op === ">" ? d > 0 : c.op === ">=" ? d >= 0 : d === 0;
}

/** Whether a version satisfies a parsed range (node-semver's prerelease rule included). */
export function satisfies(x: Version, range: Range): boolean {
  return range.some((set) => {
    if (!set.every((c) => test(c, x))) return false;
    if (!x.pre.length) return true;
    // a prerelease matches only when the range names a prerelease of the same x.y.z (synthetic floors don't count)
    return set.some((c) => c.v.pre.length > 0 && !c.v.floor && c.v.major === x.major && c.v.minor === x.minor && c.v.patch === x.patch);
  });
}
