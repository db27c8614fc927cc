// Signed Docker schema 1: the digest covers the canonical JWS payload (libtrust's formatLength /
// formatTail), and a signature may only describe the manifest it is attached to.
import { expect, test } from "bun:test";
import { sha256Bytes } from "../../src/core/digest.ts";
import { isImgxError } from "../../src/core/errors.ts";
import { parseSchema1 } from "../../src/core/schema1.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => Buffer.from(s).toString("base64url");
const sum = (c: string): string => `sha256:${c.repeat(64)}`;
const v1 = (o: object) => ({ v1Compatibility: JSON.stringify(o) });
const PAYLOAD = JSON.stringify({
  schemaVersion: 1,
  name: "x/y",
  tag: "1",
  architecture: "amd64",
  fsLayers: [{ blobSum: sum("b") }, { blobSum: sum("a") }],
  history: [v1({ id: "2", parent: "1", os: "linux", architecture: "amd64", throwaway: true }), v1({ id: "1" })],
});

/** The payload signed the way libtrust writes it: signatures spliced in before the closing brace. */
function signed(payload: string, headers = [{ formatLength: payload.length - 1, formatTail: b64("}") }]): Uint8Array {
  const sigs = headers.map((h) => ({ header: { alg: "ES256" }, signature: "c2ln", protected: b64(JSON.stringify({ ...h, time: "2026-01-01T00:00:00Z" })) }));
  return enc(`${payload.slice(0, -1)},"signatures":${JSON.stringify(sigs)}}`);
}
const code = (f: () => unknown) => {
  try {
    f();
    return "no error";
  } catch (e) {
    return isImgxError(e) ? `${e.code}: ${e.message}` : String(e);
  }
};

test("a signed manifest's digest is its payload's, not its bytes'; layers oldest first, throwaway marked", () => {
  const bytes = signed(PAYLOAD);
  const p = parseSchema1(bytes, "m");
  expect(p.digest).toBe(sha256Bytes(enc(PAYLOAD)));
  expect(p.digest).not.toBe(sha256Bytes(bytes));
  expect(p.layers.map((l): [string, boolean] => [l.blobSum, l.throwaway])).toEqual([
    [sum("a"), false],
    [sum("b"), true],
  ]);
  // two signatures over the same payload are fine; an unsigned manifest is its own payload
  const p2 = parseSchema1(signed(PAYLOAD, [{ formatLength: PAYLOAD.length - 1, formatTail: b64("}") }, { formatLength: PAYLOAD.length - 1, formatTail: b64("}") }]), "m");
  expect(p2.digest).toBe(p.digest);
  expect(parseSchema1(enc(PAYLOAD), "m").digest).toBe(sha256Bytes(enc(PAYLOAD)));
});

test("a signature whose payload is another manifest is refused", () => {
  // formatLength stops inside fsLayers and formatTail supplies different layers: the digest would vouch for those
  const cut = PAYLOAD.indexOf('"fsLayers":[') + '"fsLayers":['.length;
  const other = `${PAYLOAD.slice(cut).replace(sum("b"), sum("c"))}`;
  expect(code(() => parseSchema1(signed(PAYLOAD, [{ formatLength: cut, formatTail: b64(other) }]), "m"))).toContain("BAD_MANIFEST: Cannot read m: its signed payload is not the manifest it came with");
  expect(code(() => parseSchema1(signed(PAYLOAD, [{ formatLength: PAYLOAD.length - 1, formatTail: b64("}") }, { formatLength: cut, formatTail: b64(other) }]), "m"))).toContain("different payloads");
  expect(code(() => parseSchema1(signed(PAYLOAD, [{ formatLength: 10 ** 9, formatTail: b64("}") }]), "m"))).toContain("no valid formatLength");
  expect(code(() => parseSchema1(enc(PAYLOAD.replace('"history":[', '"history":[{"v1Compatibility":"{}"},')), "m"))).toContain("same length");
});
