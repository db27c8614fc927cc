// Upload behaviour the real distribution registry never exercises: OCI-Chunk-Min-Length, relative
// Locations with odd query state, a registry that lost bytes, a wrong Docker-Content-Digest, 411.
import { afterAll, describe, expect, test } from "bun:test";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import type { RegistryOptions } from "../../src/transports/types.ts";
import { blobInput } from "../helpers/blob-input.ts";
import { sha256 } from "../harness/tiny-image.ts";

interface Seen {
  method: string;
  url: string;
  contentLength: string | null;
  contentRange: string | null;
  te: string | null;
  bytes: number;
}

/** A fake registry's upload endpoints; `quirk` changes one behaviour per test. */
function fakeRegistry(quirk: { minChunk?: number; loseBytes?: boolean; wrongDigest?: boolean; refuseChunked?: boolean } = {}) {
  const seen: Seen[] = [];
  let held = 0;
  let step = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array();
      seen.push({ method: req.method, url: u.pathname + u.search, contentLength: req.headers.get("content-length"), contentRange: req.headers.get("content-range"), te: req.headers.get("transfer-encoding"), bytes: body.length });
      if (u.pathname === "/v2/") return new Response("{}");
      if (quirk.refuseChunked && req.headers.get("transfer-encoding")) return new Response("length required", { status: 411 });
      // state with characters a re-encoding client would change: the server wants it back byte for byte
      const next = () => `/v2/a/b/blobs/uploads/u1?_state=st%2B${++step}%3D%3D&x=a+b`;
      if (req.method === "POST") held = 0;
      if (req.method === "POST") return new Response(null, { status: 202, headers: { location: next(), ...(quirk.minChunk ? { "oci-chunk-min-length": String(quirk.minChunk) } : {}) } });
      if (req.method === "PATCH") {
        if (!u.search.startsWith(`?_state=st%2B${step}%3D%3D&x=a+b`)) return new Response('{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"bad state"}]}', { status: 400 });
        held += quirk.loseBytes ? Math.max(0, body.length - 1) : body.length;
        return new Response(null, { status: 202, headers: { location: next(), range: `0-${held - 1}` } });
      }
      if (req.method === "PUT") {
        held += body.length;
        const digest = u.searchParams.get("digest")!;
        return new Response(null, { status: 201, headers: { "docker-content-digest": quirk.wrongDigest ? sha256("other") : digest } });
      }
      return new Response(null, { status: 204 });
    },
  });
  servers.push(server);
  return { host: `127.0.0.1:${server.port}`, seen };
}
const servers: { stop(force?: boolean): void }[] = [];
afterAll(() => servers.forEach((s) => s.stop(true)));

const bytes = crypto.getRandomValues(new Uint8Array(1_000_000));
const sink = (host: string, o: RegistryOptions = {}) => openRegistrySink(parseDockerReference(`${host}/a/b:1`), { retries: 0, timeoutMs: 5000, ...o });

describe("chunked upload details", () => {
  test("OCI-Chunk-Min-Length raises a smaller --chunk-size; Location query state is sent back exactly", async () => {
    const r = fakeRegistry({ minChunk: 400_000 });
    await (await sink(r.host, { uploadMode: "chunked", chunkSize: 100_000 })).putBlob(blobInput(bytes));
    const patches = r.seen.filter((s) => s.method === "PATCH");
    expect(patches.map((p) => p.bytes)).toEqual([400_000, 400_000, 200_000]);
    expect(patches.map((p) => p.contentRange)).toEqual(["0-399999", "400000-799999", "800000-999999"]);
    expect(patches.every((p) => p.contentLength === String(p.bytes) && p.te === null)).toBe(true);
    const put = r.seen.at(-1)!;
    expect(put.method).toBe("PUT");
    expect(put.url).toBe(`/v2/a/b/blobs/uploads/u1?_state=st%2B4%3D%3D&x=a+b&digest=${encodeURIComponent(sha256(bytes))}`);
  });

  test("a registry that holds fewer bytes than were sent is an error, not a silent corrupt blob", async () => {
    const r = fakeRegistry({ loseBytes: true });
    const err = await (await sink(r.host, { uploadMode: "chunked", chunkSize: 300_000 })).putBlob(blobInput(bytes)).catch((e) => e);
    expect(err.code).toBe("REGISTRY");
    expect(err.message).toBe(`Cannot upload to "${r.host}/a/b": the registry holds 299999 bytes after we sent 300000`);
    // the failed session is deleted
    expect(r.seen.at(-1)!.method).toBe("DELETE");
  });

  test("a Docker-Content-Digest other than ours is DIGEST_MISMATCH", async () => {
    const r = fakeRegistry({ wrongDigest: true });
    const err = await (await sink(r.host)).putBlob(blobInput(bytes)).catch((e) => e);
    expect(err.code).toBe("DIGEST_MISMATCH");
    expect(err.message).toContain(`the registry stored "${sha256("other")}"`);
  });

  test("bodies of known size are never sent with chunked framing (a 411 proxy accepts them)", async () => {
    const r = fakeRegistry({ refuseChunked: true });
    for (const uploadMode of ["monolithic", "chunked"] as const) await (await sink(r.host, { uploadMode, chunkSize: 256 * 1024 })).putBlob(blobInput(bytes));
    expect(r.seen.filter((s) => s.method !== "GET").every((s) => s.te === null)).toBe(true);
  });

  test("unknown size with --upload-mode chunked: buffered PATCHes, each with its Content-Length", async () => {
    const r = fakeRegistry({ refuseChunked: true });
    await (await sink(r.host, { uploadMode: "chunked", chunkSize: 256 * 1024 })).putBlob(blobInput(bytes, { unknownDigest: true }));
    const patches = r.seen.filter((s) => s.method === "PATCH");
    expect(patches.length).toBeGreaterThan(1);
    expect(patches.reduce((n, p) => n + p.bytes, 0)).toBe(bytes.length);
    expect(r.seen.at(-1)!.url).toContain(`digest=${encodeURIComponent(sha256(bytes))}`);
  });
});
