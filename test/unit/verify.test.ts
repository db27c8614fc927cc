// The one verdict on hashed bytes (core/verify.ts): size first, then digest, unset expectations pass,
// and the messages name the thing, both sizes or both digests, as every caller relies on.
import { describe, expect, test } from "bun:test";
import { sha256Bytes } from "../../src/core/digest.ts";
import { isIntegrityError } from "../../src/core/errors.ts";
import { checkBytes, checkHashed } from "../../src/core/verify.ts";

const bytes = new TextEncoder().encode("config bytes under test");
const right = { digest: sha256Bytes(bytes), size: bytes.length };
const other = sha256Bytes("something else");
const failure = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected the check to fail");
};

describe("checkBytes / checkHashed", () => {
  test("matching digest and size pass, and so do unset expectations", () => {
    expect(() => checkBytes(bytes, right, "config")).not.toThrow();
    expect(() => checkHashed(right, {}, "config")).not.toThrow();
    expect(() => checkHashed(right, { size: right.size }, "config")).not.toThrow();
    expect(() => checkHashed(right, { digest: right.digest }, "config")).not.toThrow();
    expect(() => checkBytes(new Uint8Array(0), { digest: sha256Bytes(""), size: 0 }, "empty blob")).not.toThrow();
  });

  test("fewer bytes than promised: SIZE_MISMATCH saying truncated, naming the thing and both sizes", () => {
    const e = failure(() => checkBytes(bytes.subarray(0, 5), right, "config sha256:abc"));
    expect(e.code).toBe("SIZE_MISMATCH");
    expect(e.message).toBe(`Cannot accept config sha256:abc: expected ${right.size} bytes, got 5 (truncated?)`);
    expect(isIntegrityError(e)).toBe(true);
  });

  test("more bytes than promised: SIZE_MISMATCH without the truncation guess", () => {
    const e = failure(() => checkHashed({ digest: right.digest, size: right.size + 1 }, right, "layer"));
    expect(e.message).toBe(`Cannot accept layer: expected ${right.size} bytes, got ${right.size + 1}`);
  });

  test("same size, other content: DIGEST_MISMATCH naming both digests", () => {
    const e = failure(() => checkBytes(bytes, { digest: other, size: bytes.length }, "manifest"));
    expect(e.code).toBe("DIGEST_MISMATCH");
    expect(e.message).toBe(`Cannot accept manifest: content has digest "${right.digest}", expected "${other}"`);
    expect(isIntegrityError(e)).toBe(true);
    // only a digest expected: still checked
    expect(failure(() => checkHashed(right, { digest: other }, "blob")).code).toBe("DIGEST_MISMATCH");
  });

  test("both wrong: the size is reported (it says more: a cut-off download)", () => {
    expect(failure(() => checkBytes(bytes.subarray(1), { digest: other, size: bytes.length }, "blob")).code).toBe("SIZE_MISMATCH");
  });
});
