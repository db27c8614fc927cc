// Fills a test registry straight through the HTTP API (no imgx involved, so a seeding bug can't
// hide an imgx bug): blobs by monolithic POST+PUT, then the manifest under each tag.
import type { Blob } from "./tiny-image.ts";

export interface Pushable {
  blobs: Blob[];
  manifest: Blob;
}

async function putBlob(base: string, repo: string, b: Blob): Promise<void> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${b.digest}`, { method: "HEAD" });
  if (head.status === 200) return;
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  if (post.status !== 202) throw new Error(`seed: POST upload to ${repo}: ${post.status} ${await post.text()}`);
  const loc = new URL(post.headers.get("location")!, base);
  loc.searchParams.set("digest", b.digest);
  const put = await fetch(loc, { method: "PUT", body: b.bytes, headers: { "content-type": "application/octet-stream" } });
  if (put.status !== 201) throw new Error(`seed: PUT blob ${b.digest} to ${repo}: ${put.status} ${await put.text()}`);
}

/** Pushes an image (or an artifact) to `repo` under each tag, or by digest alone when `tags` is empty. */
export async function seedImage(base: string, repo: string, img: Pushable, tags: string[]): Promise<void> {
  for (const b of img.blobs) await putBlob(base, repo, b);
  for (const ref of tags.length ? tags : [img.manifest.digest]) {
    const r = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { method: "PUT", body: img.manifest.bytes, headers: { "content-type": img.manifest.mediaType } });
    if (r.status !== 201) throw new Error(`seed: PUT manifest ${repo}:${ref}: ${r.status} ${await r.text()}`);
  }
}
