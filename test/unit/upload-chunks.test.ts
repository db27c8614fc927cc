// The byte plumbing of registry uploads (registry/upload-chunks.ts): chunks cut at exact lengths
// across the source's own piece boundaries, nothing lost or repeated in the carry-over, short
// sources named, and a request body whose source is still read to its end after fetch lets go —
// the last one against the real registry, whose answer to a monolithic PUT is the proof.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Bytes } from "../../src/core/digest.ts";
import { bodyWithEnd, chunkStream, readChunk, skipBytes } from "../../src/transports/registry/upload-chunks.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";

const data = new Uint8Array(1000).map((_, i) => (i * 7 + 3) & 0xff);
/** A reader over `data` delivered in the given piece sizes (the rest as one last piece). */
function pieces(sizes: number[], bytes = data) {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const s of sizes) {
    parts.push(bytes.subarray(off, off + s));
    off += s;
  }
  if (off < bytes.length) parts.push(bytes.subarray(off));
  let reads = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      const p = parts.shift();
      if (!p) return c.close();
      reads++;
      c.enqueue(p);
    },
  }, { highWaterMark: 0 });
  return { reader: stream.getReader(), reads: () => reads };
}
const all = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe("chunkStream", () => {
  test("cuts consecutive chunks of exactly len bytes across piece boundaries; the carry-over is neither lost nor repeated", async () => {
    const { reader } = pieces([300, 250, 1, 449]);
    const got: Uint8Array[] = [];
    let leftover: Uint8Array | undefined;
    for (const len of [128, 128, 128, 128, 128, 128, 128, 104]) {
      const cs = chunkStream(reader, leftover, len);
      const chunk = await all(cs.body);
      expect(chunk.length).toBe(len);
      got.push(chunk);
      leftover = cs.leftover();
    }
    expect(leftover).toBeUndefined();
    expect(concat(got)).toEqual(data);
    expect((await reader.read()).done).toBe(true);
  });

  test("a chunk that ends on a piece boundary leaves no carry-over", async () => {
    const { reader } = pieces([500]);
    const cs = chunkStream(reader, undefined, 500);
    expect(await all(cs.body)).toEqual(data.subarray(0, 500));
    expect(cs.leftover()).toBeUndefined();
  });

  test("a source that ends before the chunk does fails with SIZE_MISMATCH naming the bytes it had", async () => {
    const { reader } = pieces([]);
    const cs = chunkStream(reader, undefined, 1200);
    const e = await all(cs.body).catch((x) => x);
    expect(e.code).toBe("SIZE_MISMATCH");
    expect(e.message).toBe("Cannot upload blob: the stream ended after 1000 of 1200 chunk bytes");
  });
});

describe("readChunk", () => {
  test("fills one reused buffer per call and hands back what was read past it", async () => {
    const { reader } = pieces([100, 100, 100]);
    const into = new Uint8Array(256);
    const a = await readChunk(reader, undefined, into);
    expect(a.data.length).toBe(256);
    expect(a.data.buffer).toBe(into.buffer);
    expect(a.data).toEqual(data.subarray(0, 256));
    expect(a.leftover).toEqual(data.subarray(256, 300));
    const firstCopy = a.data.slice();
    const b = await readChunk(reader, a.leftover, into);
    expect(b.data).toEqual(data.subarray(256, 512));
    expect(firstCopy).toEqual(data.subarray(0, 256));
    const rest: Uint8Array[] = [b.data.slice()];
    let left = b.leftover;
    for (;;) {
      const r = await readChunk(reader, left, into);
      if (!r.data.length) break;
      rest.push(r.data.slice());
      left = r.leftover;
    }
    expect(concat([firstCopy, ...rest])).toEqual(data);
  });

  test("a leftover longer than the buffer is itself split", async () => {
    const { reader, reads } = pieces([]);
    const into = new Uint8Array(10);
    const r = await readChunk(reader, data.subarray(0, 25), into);
    expect(r.data).toEqual(data.subarray(0, 10));
    expect(r.leftover).toEqual(data.subarray(10, 25));
    expect(reads()).toBe(0);
  });

  test("at the source's end the last chunk is short and has no leftover", async () => {
    const { reader } = pieces([]);
    const r = await readChunk(reader, undefined, new Uint8Array(4096));
    expect(r.data).toEqual(data);
    expect(r.leftover).toBeUndefined();
  });
});

describe("skipBytes", () => {
  test("drops n bytes across pieces and returns what followed in the last one", async () => {
    const { reader } = pieces([100, 100, 100]);
    expect(await skipBytes(reader, 250)).toEqual(data.subarray(250, 300));
    expect((await reader.read()).value).toEqual(data.subarray(300));
  });

  test("n on a piece boundary returns nothing extra; a source shorter than n is SIZE_MISMATCH", async () => {
    const { reader } = pieces([100, 100]);
    expect(await skipBytes(reader, 200)).toBeUndefined();
    expect((await reader.read()).value).toEqual(data.subarray(200));
    const short = pieces([]);
    const e = await skipBytes(short.reader, 1001).catch((x) => x);
    expect([e.code, e.message]).toEqual(["SIZE_MISMATCH", "Cannot resume upload: the blob ended before byte 1001"]);
  });
});

describe("bodyWithEnd", () => {
  /** A source that delivers `bytes` and then, after `delayMs`, its end (as a network stream may). */
  function lateEnding(bytes: Uint8Array, delayMs: number, extra?: Uint8Array) {
    let i = 0;
    let cancelled = false;
    let ended = false;
    const stream = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (i < bytes.length) {
          c.enqueue(bytes.subarray(i, i + 300));
          i = Math.min(i + 300, bytes.length);
          return;
        }
        await Bun.sleep(delayMs);
        if (extra && i === bytes.length) {
          i++;
          return c.enqueue(extra);
        }
        ended = true;
        c.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    return { stream, cancelled: () => cancelled, ended: () => ended };
  }

  test("counts what it handed on; cancelling the body leaves the source, end() reads it to its end", async () => {
    const src = lateEnding(data, 30);
    const b = bodyWithEnd(src.stream);
    const r = b.body.getReader();
    const got: Uint8Array[] = [];
    while (got.reduce((n, p) => n + p.length, 0) < data.length) got.push((await r.read()).value!);
    expect(concat(got)).toEqual(data);
    expect(b.sent()).toBe(data.length);
    await r.cancel(); // what fetch does once Content-Length bytes are out and the response came
    expect(src.cancelled()).toBe(false);
    expect(src.ended()).toBe(false);
    await b.end();
    expect(src.ended()).toBe(true);
    await b.cancel(); // after the end: nothing left to cancel
    expect(src.cancelled()).toBe(false);
  });

  test("bytes beyond what was sent are SIZE_MISMATCH at end(); cancel() gives up an unfinished source", async () => {
    const over = bodyWithEnd(lateEnding(data, 1, new Uint8Array([9])).stream);
    const r = over.body.getReader();
    for (let n = 0; n < data.length; ) n += (await r.read()).value!.length;
    const e = await over.end().catch((x) => x);
    expect([e.code, e.message]).toEqual(["SIZE_MISMATCH", "Cannot upload blob: more bytes than the 1000 sent"]);
    const unfinished = lateEnding(data, 1000);
    const c = bodyWithEnd(unfinished.stream);
    await c.body.getReader().read();
    await c.cancel(new Error("upload failed"));
    expect(unfinished.cancelled()).toBe(true);
  });

  describe("against the real registry", () => {
    let reg: RunningRegistry;
    beforeAll(async () => {
      reg = await startRegistry("open");
    }, 30_000);
    afterAll(() => reg?.stop());

    test("a monolithic PUT with Content-Length from a late-ending source: stored, and the source read to its end", async () => {
      const blob = crypto.getRandomValues(new Uint8Array(200_000));
      const digest = sha256Bytes(blob);
      const post = await fetch(`${reg.url}/v2/chunks/app/blobs/uploads/`, { method: "POST" });
      expect(post.status).toBe(202);
      const loc = new URL(post.headers.get("location")!, reg.url);
      loc.searchParams.set("digest", digest);
      const src = lateEnding(blob, 50);
      const b = bodyWithEnd(src.stream);
      const put = await fetch(loc, { method: "PUT", body: b.body, headers: { "content-length": String(blob.length), "content-type": "application/octet-stream" } } as RequestInit);
      await put.body?.cancel();
      expect(put.status).toBe(201);
      await b.end();
      expect(src.ended()).toBe(true);
      expect(b.sent()).toBe(blob.length);
      const back = await fetch(`${reg.url}/v2/chunks/app/blobs/${digest}`);
      expect(sha256Bytes(new Uint8Array(await back.arrayBuffer()))).toBe(digest);
    });
  });
});
