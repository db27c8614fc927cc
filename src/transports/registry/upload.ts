import { ImgxError, isIntegrityError, q } from "../../core/errors.ts";
import type { BlobInput, RegistryOptions } from "../types.ts";
import { RegistryClient, registryError } from "./client.ts";
import { bodyWithEnd, chunkStream, readChunk, skipBytes, type Reader } from "./upload-chunks.ts";
import type { UploadState } from "./upload-state.ts";

const MONOLITHIC_MAX = 16 * 1024 * 1024;
const DEFAULT_CHUNK = 32 * 1024 * 1024;
/** Chunks of unknown-size blobs must be buffered to send a Content-Length; keep that buffer small. */
const BUFFERED_CHUNK_MAX = 4 * 1024 * 1024;

/** Appends a query parameter without re-encoding the registry's own state (distribution's `_state`). */
export function withParam(url: string, key: string, value: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}${key}=${encodeURIComponent(value)}`;
}

export interface UploadSession {
  location: string;
  minChunk: number;
}

export async function startUpload(client: RegistryClient, repo: string): Promise<UploadSession> {
  const res = await client.fetch(`/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { "content-length": "0" }, repo, actions: ["pull", "push"], idempotent: false });
  if (res.status !== 202) throw await registryError(res, "start an upload to", `${client.registry}/${repo}`);
  await res.body?.cancel();
  const loc = res.headers.get("location");
  if (!loc) throw new ImgxError("REGISTRY", `Cannot upload to ${q(`${client.registry}/${repo}`)}: the registry gave no upload Location`);
  return { location: await client.resolveUrl(loc), minChunk: Number(res.headers.get("oci-chunk-min-length") ?? 0) || 0 };
}

/** Asks the registry how many bytes of an upload it holds (GET on the upload URL, Range: 0-N). */
export async function uploadStatus(client: RegistryClient, repo: string, location: string): Promise<{ offset: number; location: string }> {
  const res = await client.fetch(location, { method: "GET", repo, actions: ["pull", "push"] });
  await res.body?.cancel();
  if (res.status !== 204 && res.status !== 202) throw new ImgxError("REGISTRY", `Cannot query upload status in ${q(repo)}: HTTP ${res.status}`);
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get("range") ?? "");
  const next = res.headers.get("location");
  return { offset: range ? Number(range[1]) + 1 : 0, location: next ? await client.resolveUrl(next) : location };
}

/**
 * An upload session as the sink sees it: `location` while the registry holds an unfinished upload
 * (empty once committed or deleted); `resumeKey` once it is on disk for a later run to resume.
 */
export interface UploadHandle {
  location: string;
  resumeKey?: string;
  /** Where resumable sessions are recorded (owned by the sink: one file writer per push). */
  state: UploadState;
}

/**
 * Uploads one blob: a single PUT for small blobs of known size, otherwise PATCH chunks with
 * Content-Range (following each returned Location) and a final PUT with the digest computed while
 * streaming. Never holds more than one chunk, and holds none when the size is known.
 * On failure the session is deleted, unless it is recorded for resuming and the failure was not
 * about the bytes themselves (then a rerun continues where the registry says it stands).
 */
export async function uploadBlob(client: RegistryClient, repo: string, blob: BlobInput, opts: RegistryOptions, handle: UploadHandle): Promise<void> {
  try {
    await upload(client, repo, blob, opts, handle);
    handle.location = "";
  } catch (e) {
    // a failure before any reader took the stream (POST refused, resume lookup): release the source
    if (!blob.stream.locked) await blob.stream.cancel(e).catch(() => {});
    if (handle.location && (!handle.resumeKey || isIntegrityError(e))) await dropSession(client, repo, handle);
    throw e;
  }
}

/** Deletes an unfinished upload and forgets its resume record (failures ignored: the registry expires it anyway). */
export async function dropSession(client: RegistryClient, repo: string, handle: UploadHandle): Promise<void> {
  const { location, resumeKey } = handle;
  handle.location = "";
  if (resumeKey) await handle.state.set(resumeKey, undefined);
  if (location) await cancelSession(client, repo, location);
}

async function upload(client: RegistryClient, repo: string, blob: BlobInput, opts: RegistryOptions, handle: UploadHandle): Promise<void> {
  const session = await startUpload(client, repo);
  const subject = `${client.registry}/${repo}`;
  const mode = opts.uploadMode ?? "auto";
  let location = session.location;
  handle.location = location;
  if (blob.digest && blob.size !== undefined && mode !== "chunked" && (mode === "monolithic" || blob.size <= MONOLITHIC_MAX)) {
    const body = bodyWithEnd(blob.stream);
    let res: Response;
    try {
      res = await client.fetch(withParam(location, "digest", blob.digest), {
        method: "PUT",
        headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
        body: body.body,
        repo,
        actions: ["pull", "push"],
        idempotent: false,
      });
    } catch (e) {
      await body.cancel(e);
      throw e;
    }
    // every byte went out: read the source's end, so a lie found there is our DIGEST_MISMATCH
    // (not the registry's DIGEST_INVALID) and result() is valid; an early refusal drops the rest
    if (res.status === 201 || body.sent() === blob.size) await body.end().catch(async (e) => {
      await res.body?.cancel();
      throw e;
    });
    else await body.cancel();
    return finish(res, blob, subject);
  }
  if (blob.size === undefined && (mode === "auto" || mode === "stream")) return streamUpload(client, repo, location, blob, subject);
  const reader = blob.stream.getReader();
  try {
    await chunkedUpload(client, repo, blob, opts, handle, session, reader);
  } catch (e) {
    // the source is given up with the upload: never left open behind a failed PATCH
    await reader.cancel(e).catch(() => {});
    throw e;
  }
}

/** PATCH chunks with Content-Range, each to the Location the previous answer gave, then PUT ?digest=. */
async function chunkedUpload(client: RegistryClient, repo: string, blob: BlobInput, opts: RegistryOptions, handle: UploadHandle, session: UploadSession, reader: Reader): Promise<void> {
  const subject = `${client.registry}/${repo}`;
  let location = session.location;
  const chunkSize = Math.max(opts.chunkSize ?? DEFAULT_CHUNK, session.minChunk, 1);
  let leftover: Uint8Array | undefined;
  let offset = 0;
  let scratch: Uint8Array[] | undefined;
  let nextChunk: Promise<{ data: Uint8Array; leftover?: Uint8Array }> | undefined;
  let which = 0;
  const key = blob.digest ? `${client.registry}/${repo}@${blob.digest}` : undefined;
  const resumed = key && blob.size !== undefined ? await resumeSession(client, repo, key, handle.state) : undefined;
  if (resumed && resumed.offset < blob.size!) {
    // the registry already holds these bytes: read them locally (they still pass the verify hash), don't resend
    await cancelSession(client, repo, location);
    location = handle.location = resumed.location;
    handle.resumeKey = key;
    leftover = await skipBytes(reader, resumed.offset);
    offset = resumed.offset;
  }
  for (;;) {
    const known = blob.size !== undefined;
    const len = known ? Math.min(chunkSize, blob.size! - offset) : 0;
    let body: ReadableStream<Uint8Array> | Uint8Array;
    let n: number;
    let rest: (() => Uint8Array | undefined) | undefined;
    if (known) {
      if (len <= 0) break;
      const cs = chunkStream(reader, leftover, len);
      body = cs.body;
      rest = cs.leftover;
      n = len;
    } else {
      // two buffers: the next chunk is read (and compressed upstream) while this one is on the wire
      if (!scratch) {
        const size = Math.min(chunkSize, Math.max(BUFFERED_CHUNK_MAX, session.minChunk));
        scratch = [new Uint8Array(size), new Uint8Array(size)];
        nextChunk = readChunk(reader, leftover, scratch[0]!);
      }
      const buf = await nextChunk!;
      if (buf.data.length === 0) break;
      which ^= 1;
      nextChunk = readChunk(reader, buf.leftover, scratch[which]!);
      body = buf.data;
      n = buf.data.length;
    }
    const res = await client.fetch(location, {
      method: "PATCH",
      headers: { "content-type": "application/octet-stream", "content-length": String(n), "content-range": `${offset}-${offset + n - 1}` },
      body,
      repo,
      actions: ["pull", "push"],
      idempotent: false,
    });
    if (res.status !== 202) throw await registryError(res, "upload a chunk to", subject);
    await res.body?.cancel();
    if (rest) leftover = rest();
    // request bodies are copied by fetch; collect them now rather than let a GiB of garbage pile up
    offset += n;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get("range") ?? "");
    if (range && Number(range[1]) + 1 !== offset)
      throw new ImgxError("REGISTRY", `Cannot upload to ${q(subject)}: the registry holds ${Number(range[1]) + 1} bytes after we sent ${offset}`);
    const next = res.headers.get("location");
    if (next) location = handle.location = await client.resolveUrl(next);
    if (key) {
      await handle.state.set(key, location);
      handle.resumeKey = key;
    }
    if (known && offset >= blob.size!) break;
  }
  if (blob.size !== undefined) {
    // drain to the end so the verify stream can check digest and size before we commit the upload
    const { done } = await reader.read();
    if (!done) throw new ImgxError("SIZE_MISMATCH", `Cannot upload blob to ${q(subject)}: more bytes than its declared ${blob.size}`);
  }
  const digest = blob.result().digest;
  const res = await client.fetch(withParam(location, "digest", digest), { method: "PUT", headers: { "content-length": "0" }, repo, actions: ["pull", "push"], idempotent: false });
  await finish(res, blob, subject);
  if (key) await handle.state.set(key, undefined);
  handle.resumeKey = undefined;
}

/**
 * A blob of unknown size (compressed on the way) goes up as one streamed PATCH, as docker push does:
 * no buffering and no round trip per chunk. `--upload-mode chunked` buffers chunks instead, for
 * proxies that cap request bodies.
 */
async function streamUpload(client: RegistryClient, repo: string, location: string, blob: BlobInput, subject: string): Promise<void> {
  const body = bodyWithEnd(blob.stream);
  let res: Response;
  try {
    res = await client.fetch(location, { method: "PATCH", headers: { "content-type": "application/octet-stream" }, body: body.body, repo, actions: ["pull", "push"], idempotent: false });
  } catch (e) {
    await body.cancel(e);
    throw e;
  }
  if (res.status !== 202) {
    await body.cancel();
    throw await registryError(res, "upload a blob to", subject);
  }
  // without a Content-Length fetch reads to the end; this only surfaces an error found there
  await body.end();
  await res.body?.cancel();
  const next = res.headers.get("location");
  const url = next ? await client.resolveUrl(next) : location;
  const put = await client.fetch(withParam(url, "digest", blob.result().digest), { method: "PUT", headers: { "content-length": "0" }, repo, actions: ["pull", "push"], idempotent: false });
  await finish(put, blob, subject);
}

async function resumeSession(client: RegistryClient, repo: string, key: string, state: UploadState): Promise<{ offset: number; location: string } | undefined> {
  const saved = state.get(key);
  if (!saved) return undefined;
  try {
    const st = await uploadStatus(client, repo, saved);
    return st.offset > 0 ? st : undefined;
  } catch {
    await state.set(key, undefined);
    return undefined;
  }
}

async function cancelSession(client: RegistryClient, repo: string, location: string): Promise<void> {
  await client
    .fetch(location, { method: "DELETE", repo, actions: ["pull", "push"] })
    .then((r) => r.body?.cancel())
    .catch(() => {});
}

async function finish(res: Response, blob: BlobInput, subject: string): Promise<void> {
  if (res.status !== 201) throw await registryError(res, "upload blob to", subject);
  await res.body?.cancel();
  const want = blob.result().digest;
  const got = res.headers.get("docker-content-digest");
  if (got && got !== want) throw new ImgxError("DIGEST_MISMATCH", `Cannot upload blob to ${q(subject)}: the registry stored ${q(got)}, we sent ${q(want)}`);
}
