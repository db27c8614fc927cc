import { expect, test } from "bun:test";
import { compareVersions, parseRange, parseVersion, satisfies } from "../../src/core/semver.ts";
import { compileTagFilter } from "../../src/core/tag-filter.ts";

const sat = (tag: string, range: string) => {
  const v = parseVersion(tag);
  return v !== undefined && satisfies(v, parseRange(range));
};

test("tags are versions loosely: v prefix, missing parts, prereleases; others are not", () => {
  expect(parseVersion("v1.2")).toEqual({ major: 1, minor: 2, patch: 0, pre: [] });
  expect(parseVersion("3")).toEqual({ major: 3, minor: 0, patch: 0, pre: [] });
  expect(parseVersion("1.3.0-rc.1")).toEqual({ major: 1, minor: 3, patch: 0, pre: ["rc", 1] });
  for (const t of ["latest", "1.2.3.4", "main-abc", "1.2-", "", "v"]) expect(parseVersion(t)).toBeUndefined();
});

test("precedence follows semver: numeric parts, release above its prereleases, numeric ids below alphanumeric", () => {
  const order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2", "1.10"];
  const sorted = [...order].reverse().sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!));
  expect(sorted).toEqual(order);
});

test("comparators, caret, tilde, x-ranges, hyphen ranges, and/or", () => {
  const cases: [string, string, boolean][] = [
    ["1.2", ">=1.2", true], ["1.10.0", ">=1.2", true], ["1.1.9", ">=1.2", false], ["v1.2.3", ">=1.2", true],
    ["2.0", "<2", false], ["1.99.9", "<2", true], ["1.2.0", ">1.2", false], ["1.3", ">1.2", true], ["1.2.9", "<=1.2", true], ["1.3", "<=1.2", false],
    ["1.9.0", "^1.2", true], ["2.0.0", "^1.2", false], ["1.1.0", "^1.2", false], ["0.2.5", "^0.2", true], ["0.3.0", "^0.2", false], ["0.0.4", "^0.0.3", false],
    ["1.2.5", "~1.2", true], ["1.3.0", "~1.2", false], ["1.0.0", "1.x", true], ["2.0.0", "1.x", false], ["7.1", "*", true],
    ["1.5.0", "1.2 - 1.6", true], ["1.6.9", "1.2 - 1.6", true], ["1.7.0", "1.2 - 1.6", false], ["1.2.3", "1.2.3", true], ["1.2.4", "=1.2.3", false],
    ["3.0.0", ">=1.2 <2 || >=3", true], ["2.5.0", ">=1.2 <2 || >=3", false], ["1.4", ">= 1.2 < 2", true],
    ["1.3.0-rc1", ">=1.2", false], ["1.3.0-rc1", ">1.2", false], ["1.3.0-rc2", ">=1.3.0-rc1", true], ["1.4.0-rc1", ">=1.3.0-rc1", false], ["latest", "*", false],
  ];
  for (const [tag, range, want] of cases) expect({ tag, range, ok: sat(tag, range) }).toEqual({ tag, range, ok: want });
});

test("a range that does not parse is a usage error naming it", () => {
  for (const r of ["garbage", "", ">=1.2 ||", ">=1.2 nope", ">>1"]) expect(() => parseRange(r)).toThrow(/Cannot use semver range/);
});

test("tag filter: anchored regexes, exclusions, semver, latest N by version", () => {
  const tags = ["1.0", "1.1", "1.2", "1.10", "2.0-rc1", "2.0", "latest", "main", "v1.9"];
  expect(compileTagFilter({ regex: ["1\\..*"] })(tags)).toEqual(["1.0", "1.1", "1.2", "1.10"]);
  expect(compileTagFilter({ regex: ["1"] })(tags)).toEqual([]); // anchored: "1" is not "1.0"
  expect(compileTagFilter({ regex: ["latest", "main"] })(tags)).toEqual(["latest", "main"]);
  expect(compileTagFilter({ semver: ">=1.2 <2" })(tags)).toEqual(["1.2", "1.10", "v1.9"]);
  expect(compileTagFilter({ latest: 3 })(tags)).toEqual(["1.10", "2.0-rc1", "2.0"]);
  expect(compileTagFilter({ semver: ">=1", latest: 2 })(tags)).toEqual(["1.10", "2.0"]);
  expect(compileTagFilter({ exclude: [".*rc.*", "main"] })(tags)).toEqual(["1.0", "1.1", "1.2", "1.10", "2.0", "latest", "v1.9"]);
  expect(compileTagFilter({}).active).toBe(false);
  expect(() => compileTagFilter({ regex: ["("] })).toThrow(/--tags "\("/);
  expect(() => compileTagFilter({ latest: 0 })).toThrow(/--latest/);
});
