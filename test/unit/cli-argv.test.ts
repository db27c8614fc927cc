import { expect, test } from "bun:test";
import { closest, rawOptionValues } from "../../src/cli/argv.ts";

test("option values stay strings (cac would turn 1.10 into 1.1)", () => {
  expect(rawOptionValues(["push", "x", "y", "--tag", "1.10", "-t=0x10", "--tag=2.0"], ["tag", "t"])).toEqual(["1.10", "0x10", "2.0"]);
  expect(rawOptionValues(["a", "--", "--tag", "x"], ["tag"])).toEqual([]);
});

test("closest suggests the nearest flag", () => {
  expect(closest("platfrom", ["platform", "plain-http", "password"])).toBe("platform");
  expect(closest("zzzzzz", ["platform"])).toBeUndefined();
});
