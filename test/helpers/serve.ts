// Runs the compiled `imgx serve` and drives its JSON API the way the page does (the page's own
// archive reader, run in Bun on a file blob), so API tests need no browser.
import { IMGX } from "./imgx.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";
// @ts-ignore: the page's browser module (plain JS)
import { choicesOf, indexCommitBody, indexUpload } from "../../src/serve/page/platforms.js";

export interface Serve {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `imgx serve --listen 127.0.0.1:0 ARGS` and waits for its "listening on URL" line. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<Serve> {
  const proc = Bun.spawn([IMGX, "serve", "--listen", "127.0.0.1:0", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  let err = "";
  void (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) err += new TextDecoder().decode(c);
  })();
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  const deadline = Date.now() + 15_000;
  while (!/listening on (\S+)/.test(out)) {
    const r = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => ({ done: true, value: undefined }))]);
    if (r.done) {
      proc.kill();
      throw new Error(`imgx serve did not start: ${out}${err}`);
    }
    out += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  const url = /listening on (\S+)/.exec(out)![1]!;
  return {
    url,
    proc,
    stderr: () => err,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export interface ApiOpts {
  auth?: string;
  csrf?: string | null;
}

export async function call(s: { url: string }, method: string, path: string, body?: unknown, o: ApiOpts = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (o.csrf) headers["x-csrf-token"] = o.csrf;
  if (o.auth) headers.authorization = `Basic ${btoa(o.auth)}`;
  let payload: string | Uint8Array | undefined;
  if (body instanceof Uint8Array) payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(new URL(path, s.url), { method, headers, body: payload });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed };
}

export async function csrfOf(s: { url: string }, auth?: string): Promise<string> {
  const r = await call(s, "GET", "/api/config", undefined, { auth });
  if (r.status !== 200) throw new Error(`config: ${r.status}`);
  return r.body.csrf;
}

type SendOpts = ApiOpts & { chunk?: number; hashSent?: boolean; mangle?: (layer: number, offset: number, data: Uint8Array) => Uint8Array };

/** What the page's Upload does before committing: check, then send each missing layer in chunks. */
async function sendLayers(s: { url: string }, file: ReturnType<typeof Bun.file>, layers: any[], reference: string, o: SendOpts): Promise<{ failed?: { status: number; body: any }; results: { digest: string; size: number }[]; steps: string[] }> {
  const steps: string[] = [];
  const results: { digest: string; size: number }[] = [];
  const check = await call(s, "POST", "/api/check", { reference, fileSize: file.size, layers: layers.map((l: any) => ({ expect: l.expect, size: l.size, gzip: l.gzip })) }, o);
  if (check.status !== 200) return { failed: check, results, steps: ["check"] };
  for (const [i, l] of layers.entries()) {
    if (check.body.layers[i].present) {
      results.push(check.body.layers[i]);
      steps.push(`present ${i}`);
      continue;
    }
    const sess = await call(s, "POST", "/api/uploads", { reference, expect: l.expect, size: l.size, gzip: l.gzip }, o);
    if (sess.status >= 300) return { failed: sess, results, steps };
    const h = new Bun.CryptoHasher("sha256");
    for (let pos = sess.body.offset; pos < l.size; ) {
      const end = Math.min(l.size, pos + (o.chunk ?? 8 * 1024 * 1024));
      let data: Uint8Array = new Uint8Array(await file.slice(l.offset + pos, l.offset + end).arrayBuffer());
      // a consistent liar hashes what it sends; otherwise the bytes change after the page hashed them (in transit)
      if (!o.hashSent) h.update(data);
      if (o.mangle) data = o.mangle(i, pos, data);
      if (o.hashSent) h.update(data);
      const r = await call(s, "PUT", `/api/uploads/${sess.body.id}?offset=${pos}`, data, o);
      if (r.status !== 200) return { failed: r, results, steps };
      pos = r.body.offset;
    }
    const fin = await call(s, "POST", `/api/uploads/${sess.body.id}/finish`, { digest: `sha256:${h.digest("hex")}` }, o);
    if (fin.status !== 200) return { failed: fin, results, steps };
    results.push(fin.body);
    steps.push(`uploaded ${i}`);
  }
  return { results, steps };
}

/** Everything the page does for one image, through the API; `mangle` lets a test lie on the way. */
export async function pushViaApi(s: { url: string }, tarPath: string, reference: string, o: SendOpts & { image?: number } = {}): Promise<{ status: number; body: any; steps: string[] }> {
  const file = Bun.file(tarPath);
  const images = await readArchive(file);
  const img = images[o.image ?? 0];
  const sent = await sendLayers(s, file, img.layers, reference, o);
  if (sent.failed) return { ...sent.failed, steps: sent.steps };
  const results = sent.results;
  const commit = await call(
    s,
    "POST",
    "/api/commit",
    {
      reference,
      config: Buffer.from(img.configBytes).toString("base64"),
      format: img.format,
      layers: img.layers.map((l: any, i: number) => ({ expect: l.expect, digest: results[i]!.digest, size: results[i]!.size, compression: l.compression, gzipped: l.gzip })),
    },
    o,
  );
  return { ...commit, steps: sent.steps };
}

/**
 * What the page does for "all platforms" of an archive's first multi-platform image: every distinct
 * layer once, then POST /api/commit-index. `edit` lets a test change the body before it is sent;
 * `dryRun` returns the body instead of sending it.
 */
export async function pushIndexViaApi(s: { url: string }, tarPath: string, reference: string, o: SendOpts & { edit?: (body: any) => void; dryRun?: boolean } = {}): Promise<{ status: number; body: any; steps: string[] }> {
  const file = Bun.file(tarPath);
  const all = choicesOf(await readArchive(file)).find((c: any) => c.kind === "all");
  if (!all) throw new Error(`${tarPath}: the page offers no "all platforms" choice`);
  const plan = indexUpload(all);
  const sent = await sendLayers(s, file, plan.layers, reference, o);
  if (sent.failed) return { ...sent.failed, steps: sent.steps };
  const body = indexCommitBody(reference, plan, sent.results);
  o.edit?.(body);
  if (o.dryRun) return { status: 0, body, steps: sent.steps };
  return { ...(await call(s, "POST", "/api/commit-index", body, o)), steps: sent.steps };
}
