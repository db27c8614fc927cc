// The push scenario: each operation pushes a fresh image nobody pushed before (unique layers from
// PushBodies, a config naming them, a manifest), the way docker push does it: per blob HEAD
// (404 = absent), POST an upload, then the body as --upload-mode says, then PUT the manifest by
// digest. What was pushed is remembered so --cleanup can delete it.
import type { Digest } from "../core/digest.ts";
import { sha256Bytes } from "../core/digest.ts";
import { MT } from "../core/media-types.ts";
import type { PushBodies, PushLayer } from "./body.ts";
import type { BenchHttp, OpState } from "./http.ts";
import type { OpFn } from "./scenarios.ts";
import { blobPath, manifestPath } from "./target.ts";

export type UploadMode = "monolithic" | "chunked" | "streamed";

export interface PushOptions {
  repo: string;
  layers: number;
  mode: UploadMode;
  chunkSize: number;
  /** Unique per process run (and shard): makes every layer of every run distinct. */
  runId: string;
}

export interface Pushed {
  manifests: Digest[];
  blobs: Digest[];
}

type Body = { size: number; digest: Digest; stream: (from: number, to: number) => ReadableStream<Uint8Array> | Uint8Array };

export function pushOp(http: BenchHttp, bodies: PushBodies, o: PushOptions, pushed: Pushed): OpFn {
  const enc = new TextEncoder();
  const layerBody = (l: PushLayer): Body => ({ size: l.size, digest: l.digest, stream: (a, b) => bodies.stream(l, a, b) });
  return async (op, index) => {
    const layers = Array.from({ length: o.layers }, (_, i) => bodies.layer(`imgx-bench ${o.runId} ${index} ${i}`));
    for (const l of layers) await uploadBlob(http, op, o, layerBody(l));
    const config = enc.encode(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) } }));
    const configDigest = sha256Bytes(config);
    await uploadBlob(http, op, o, { size: config.byteLength, digest: configDigest, stream: (a, b) => config.subarray(a, b) });
    const manifest = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: configDigest, size: config.byteLength },
        layers: layers.map((l) => ({ mediaType: MT.ociLayer, digest: l.digest, size: l.size })),
      }),
    );
    const digest = sha256Bytes(manifest);
    await http.send(op, "PUT manifest", manifestPath(o.repo, digest), { method: "PUT", headers: { "content-type": MT.ociManifest }, body: manifest, repo: o.repo, actions: ["pull", "push"], expect: [201] });
    pushed.manifests.push(digest);
    pushed.blobs.push(...layers.map((l) => l.digest), configDigest);
  };
}

async function uploadBlob(http: BenchHttp, op: OpState, o: PushOptions, b: Body): Promise<void> {
  const repo = o.repo;
  const actions: ("pull" | "push")[] = ["pull", "push"];
  const head = await http.send(op, "HEAD blob", blobPath(repo, b.digest), { method: "HEAD", repo, actions, expect: [200, 404] });
  if (head.status === 200) return;
  const post = await http.send(op, "POST upload", `/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { "content-length": "0" }, repo, actions, expect: [202] });
  let location = await location_(http, post.headers);
  const put = (url: string, body?: Body) =>
    http.send(op, "PUT upload", withDigest(url, b.digest), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(body ? body.size : 0) },
      body: body ? body.stream(0, body.size) : undefined,
      repo,
      actions,
      expect: [201],
    });
  if (o.mode === "monolithic") {
    await put(location, b);
    return;
  }
  if (o.mode === "streamed") {
    // one PATCH, body streamed without a length (chunked transfer encoding)
    const s = b.stream(0, b.size);
    const body = s instanceof Uint8Array ? new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(s), c.close()) }) : s;
    const r = await http.send(op, "PATCH upload", location, { method: "PATCH", headers: { "content-type": "application/octet-stream" }, body, repo, actions, expect: [202] });
    location = await location_(http, r.headers);
  } else {
    for (let from = 0; from < b.size; from += o.chunkSize) {
      const to = Math.min(b.size, from + o.chunkSize);
      const r = await http.send(op, "PATCH upload", location, {
        method: "PATCH",
        headers: { "content-type": "application/octet-stream", "content-range": `${from}-${to - 1}`, "content-length": String(to - from) },
        body: b.stream(from, to),
        repo,
        actions,
        expect: [202],
      });
      location = await location_(http, r.headers);
    }
  }
  await put(location);
}

async function location_(http: BenchHttp, h: Headers): Promise<string> {
  const loc = h.get("location");
  if (!loc) throw new Error("the registry's upload answer has no Location header");
  return http.client.resolveUrl(loc);
}

function withDigest(url: string, digest: Digest): string {
  return `${url}${url.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}

/** --cleanup: delete the manifests, then the blobs pushed (where the registry allows deletes). */
export async function cleanupPushed(http: BenchHttp, op: OpState, repo: string, pushed: Pushed): Promise<{ deleted: number; failed: number }> {
  let deleted = 0;
  let failed = 0;
  const del = async (endpoint: string, path: string) => {
    try {
      await http.send(op, endpoint, path, { method: "DELETE", repo, actions: ["delete"], expect: [202, 200, 204, 404] });
      deleted++;
    } catch {
      failed++;
    }
  };
  for (const d of pushed.manifests) await del("DELETE manifest", manifestPath(repo, d));
  for (const d of pushed.blobs) await del("DELETE blob", blobPath(repo, d));
  return { deleted, failed };
}
