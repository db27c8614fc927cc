// Bounded JSON parsing for manifests, configs and index.json (core/json.ts): size and nesting limits
// a hostile file can't get past, brackets inside strings not counted, errors naming the source.
import { describe, expect, test } from "bun:test";
import { asObject, encodeJson, MAX_JSON_BYTES, optStr, parseJsonBytes, str } from "../../src/core/json.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const nested = (n: number) => "[".repeat(n) + "]".repeat(n);
const err = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected a failure");
};

describe("parseJsonBytes", () => {
  test("parses bytes and strings alike", () => {
    expect(parseJsonBytes(enc('{"a":[1,{"b":"c"}]}'), "manifest x")).toEqual({ a: [1, { b: "c" }] });
    expect(parseJsonBytes('{"a":1}', "manifest x")).toEqual({ a: 1 });
  });

  test("more bytes than the limit: BAD_MANIFEST naming the source and the limit, before parsing", () => {
    const e = err(() => parseJsonBytes(enc(`"${"x".repeat(100)}"`), "config sha256:1", 100));
    expect(e.code).toBe("BAD_MANIFEST");
    expect(e.message).toBe("Cannot read config sha256:1: 102 bytes exceeds the 100-byte limit");
    expect(parseJsonBytes(enc(`"${"x".repeat(98)}"`), "config", 100)).toBe("x".repeat(98));
    expect(err(() => parseJsonBytes(new Uint8Array(MAX_JSON_BYTES + 1), "index.json")).code).toBe("BAD_MANIFEST");
  });

  test("nesting: 64 levels parse, 65 are refused", () => {
    expect(parseJsonBytes(nested(64), "manifest")).toBeArray();
    const e = err(() => parseJsonBytes(nested(65), "manifest m"));
    expect(e.code).toBe("BAD_MANIFEST");
    expect(e.message).toBe("Cannot parse manifest m: JSON nested deeper than 64 levels");
    // objects count like arrays
    expect(err(() => parseJsonBytes('{"a":'.repeat(65) + "1" + "}".repeat(65), "m")).message).toContain("deeper than 64");
    // depth is how deep, not how many: many siblings at depth 2 are fine
    expect(parseJsonBytes(`[${"[],".repeat(1000)}[]]`, "m")).toHaveLength(1001);
  });

  test("brackets inside strings are text, escaped quotes do not end a string, an escaped backslash does", () => {
    expect(parseJsonBytes(`["${"[{".repeat(100)}"]`, "m")).toEqual(["[{".repeat(100)]);
    expect(parseJsonBytes(`["\\"${"[".repeat(100)}"]`, "m")).toEqual([`"${"[".repeat(100)}`]);
    // the string ends after \\: the 65 levels that follow are real nesting and must be refused
    expect(err(() => parseJsonBytes(`["\\\\", ${nested(65)}]`, "m")).message).toContain("deeper than 64");
  });

  test("not JSON: BAD_MANIFEST naming the source; invalid UTF-8 is replaced, not fatal", () => {
    const e = err(() => parseJsonBytes(enc("{not json"), "index.json of /tmp/x"));
    expect(e.code).toBe("BAD_MANIFEST");
    expect(e.message).toStartWith("Cannot parse index.json of /tmp/x: not valid JSON (");
    expect(parseJsonBytes(new Uint8Array([0x22, 0xff, 0x22]), "m")).toBe("\ufffd");
  });
});

describe("field readers", () => {
  test("asObject refuses arrays, null and scalars", () => {
    for (const v of [[], null, 1, "s", true]) expect(err(() => asObject(v, "config c")).message).toBe("Cannot read config c: expected a JSON object");
    expect(asObject({ a: 1 }, "c")).toEqual({ a: 1 });
  });

  test("str requires a string; optStr allows absent and null but not other types", () => {
    const o = { s: "v", n: 1, z: null };
    expect(str(o, "s", "m")).toBe("v");
    expect(err(() => str(o, "n", "manifest m")).message).toBe('Cannot read manifest m: field "n" must be a string');
    expect(err(() => str(o, "missing", "m")).code).toBe("BAD_MANIFEST");
    expect(optStr(o, "s", "m")).toBe("v");
    expect(optStr(o, "missing", "m")).toBeUndefined();
    expect(optStr(o, "z", "m")).toBeUndefined();
    expect(err(() => optStr(o, "n", "m")).code).toBe("BAD_MANIFEST");
  });

  test("encodeJson: compact, keys in the order given (digests of what imgx writes stay stable)", () => {
    expect(new TextDecoder().decode(encodeJson({ schemaVersion: 2, mediaType: "x", layers: [{ b: 1, a: 2 }] }))).toBe('{"schemaVersion":2,"mediaType":"x","layers":[{"b":1,"a":2}]}');
  });
});
