import { afterAll, describe, expect, test } from "bun:test";
import { sha256Bytes } from "../../src/core/digest.ts";
import { MT } from "../../src/core/media-types.ts";
import { parseDockerReference } from "../../src/core/reference.ts";
import { listTags, openRegistrySource, resolveDigest } from "../../src/transports/registry/index.ts";

const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const blob = new Uint8Array(100).map((_, i) => i);
const blobDigest = sha256Bytes(blob);
const manifest = enc({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: blobDigest, size: 100 }, layers: [] });
const mDigest = sha256Bytes(manifest);
let lie = false;
let ignoreRange = false;
let huge = false;

const s = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const p = new URL(req.url).pathname + new URL(req.url).search;
    if (p === "/v2/") return new Response("{}");
    if (p === "/v2/team/app/manifests/1" || p === `/v2/team/app/manifests/${mDigest}`) {
      if (huge) return new Response(new Uint8Array(5 * 1024 * 1024), { headers: { "content-type": MT.ociManifest } });
      const body = lie ? enc({ ...JSON.parse(new TextDecoder().decode(manifest)), annotations: { x: "y" } }) : manifest;
      const headers = { "content-type": MT.ociManifest, "docker-content-digest": mDigest };
      return new Response(req.method === "HEAD" ? null : body, { headers: { ...headers, "content-length": String(body.length) } });
    }
    if (p === `/v2/team/app/blobs/${blobDigest}`) {
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "");
      if (range && !ignoreRange) return new Response(blob.slice(Number(range[1]), Number(range[2]) + 1), { status: 206 });
      return new Response(blob);
    }
    if (p.startsWith("/v2/team/app/tags/list")) {
      const last = new URL(req.url).searchParams.get("last");
      return last ? Response.json({ name: "team/app", tags: ["c"] }) : Response.json({ name: "team/app", tags: ["a", "b"] }, { headers: { link: '</v2/team/app/tags/list?last=b&n=2>; rel="next"' } });
    }
    return Response.json({ errors: [{ code: p.includes("/blobs/") ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN", message: "unknown" }] }, { status: 404 });
  },
});
afterAll(() => s.stop(true));
const ref = (r: string) => parseDockerReference(`127.0.0.1:${s.port}/team/app${r}`);
const opts = { plainHttp: true };

describe("registry source", () => {
  test("images(): one image named by the full reference, our own digest", async () => {
    const src = await openRegistrySource(ref(":1"), opts);
    const [img] = await src.images();
    expect(img!.names).toEqual([`127.0.0.1:${s.port}/team/app:1`]);
    expect(img!.descriptor).toEqual({ mediaType: MT.ociManifest, digest: mDigest, size: manifest.length });
    expect(src.mountFrom).toEqual({ registry: `127.0.0.1:${s.port}`, repository: "team/app" });
    expect((await src.manifest(img!.descriptor)).bytes).toEqual(manifest);
  });

  test("content that does not match Docker-Content-Digest or the digest asked for is DIGEST_MISMATCH", async () => {
    lie = true;
    try {
      for (const r of [":1", `@${mDigest}`]) {
        const e = await (await openRegistrySource(ref(r), opts)).images().catch((x) => x);
        expect(e.code).toBe("DIGEST_MISMATCH");
      }
    } finally {
      lie = false;
    }
  });

  test("manifests over 4 MiB are refused", async () => {
    huge = true;
    try {
      const e = await (await openRegistrySource(ref(":1"), opts)).images().catch((x) => x);
      expect([e.code, e.message]).toEqual(["BAD_MANIFEST", expect.stringContaining("4 MiB")]);
    } finally {
      huge = false;
    }
  });

  test("blob() and blobFrom(): whole, ranged (closed range), a server ignoring Range, and a missing blob", async () => {
    const src = await openRegistrySource(ref(":1"), opts);
    const d = { mediaType: MT.ociConfig, digest: blobDigest, size: 100 };
    expect(new Uint8Array(await new Response(await src.blob(d)).arrayBuffer())).toEqual(blob);
    const ranged = await src.blobFrom(d, 60);
    expect(ranged.rangeIgnored).toBeUndefined();
    expect(new Uint8Array(await new Response(ranged.rangeIgnored ? null : ranged.stream).arrayBuffer())).toEqual(blob.slice(60));
    ignoreRange = true;
    try {
      expect(await src.blobFrom(d, 60)).toEqual({ rangeIgnored: true });
    } finally {
      ignoreRange = false;
    }
    const missing = await src.blob({ ...d, digest: sha256Bytes("nope") }).catch((x) => x);
    expect(missing.code).toBe("BLOB_UNKNOWN");
    expect(missing.message).toContain(sha256Bytes("nope"));
    expect(missing.message).toContain("team/app");
  });

  test("unknown tag is MANIFEST_UNKNOWN; tags follow Link pagination; digest via HEAD", async () => {
    const e = await (await openRegistrySource(ref(":nope"), opts)).images().catch((x) => x);
    expect(e.code).toBe("MANIFEST_UNKNOWN");
    expect(await listTags(parseDockerReference(`127.0.0.1:${s.port}/team/app`, { defaultTag: false }), opts)).toEqual(["a", "b", "c"]);
    expect(await resolveDigest(ref(":1"), opts)).toBe(mDigest);
    expect((await resolveDigest(ref(":nope"), opts).catch((x) => x)).code).toBe("MANIFEST_UNKNOWN");
  });

  test("a digest reference resolves only to itself; a Link back to the same page ends pagination", async () => {
    const other = sha256Bytes(new TextEncoder().encode("other"));
    const srv = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const p = new URL(req.url).pathname;
        if (p === "/v2/") return new Response("{}");
        if (p === `/v2/r/manifests/${other}`)
          return new Response(req.method === "HEAD" ? null : manifest, { headers: { "content-type": MT.ociManifest, "docker-content-digest": mDigest, "content-length": String(manifest.length) } });
        if (p === "/v2/r/tags/list") return Response.json({ name: "r", tags: ["a"] }, { headers: { link: '</v2/r/tags/list?n=1000>; rel="next"' } });
        return new Response("{}", { status: 404 });
      },
    });
    try {
      const e = await resolveDigest(parseDockerReference(`127.0.0.1:${srv.port}/r@${other}`), opts).catch((x) => x);
      expect(e.code).toBe("DIGEST_MISMATCH");
      expect(await listTags(parseDockerReference(`127.0.0.1:${srv.port}/r`, { defaultTag: false }), opts)).toEqual(["a"]);
    } finally {
      srv.stop(true);
    }
  });

  test("Accept lists OCI, Docker and schema1 types; a malformed schema1 manifest is BAD_MANIFEST naming it (schema 1 itself is read: test/integration/schema1.test.ts)", async () => {
    let accept = "";
    const srv = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname === "/v2/") return new Response("{}");
        accept = req.headers.get("accept") ?? "";
        return new Response(JSON.stringify({ schemaVersion: 1, name: "old/app", tag: "1", fsLayers: [], history: [], signatures: [] }), { headers: { "content-type": MT.dockerSchema1Signed } });
      },
    });
    try {
      const e = await (await openRegistrySource(parseDockerReference(`127.0.0.1:${srv.port}/old/app:1`), opts)).images().catch((x) => x);
      expect(e.code).toBe("BAD_MANIFEST");
      expect(e.message).toContain("schema 1 manifest");
      expect(e.message).toContain('"fsLayers" and "history" must be non-empty arrays');
      expect(e.message).toContain("old/app:1");
      for (const t of [MT.ociIndex, MT.ociManifest, MT.dockerManifestList, MT.dockerManifest, MT.dockerSchema1Signed, MT.dockerSchema1]) expect(accept).toContain(t);
    } finally {
      srv.stop(true);
    }
  });
});
