// Sends the layers of one image: asks what the registry has, uploads the rest in chunks with
// progress, hashes what it sends with hash-wasm (its state saved after every acknowledged chunk so a
// reloaded tab continues instead of re-hashing), then asks the server to write the tag. The bytes
// come from a layer-bytes.js source: a plain file (layers in parallel) or a compressed tarball's
// decompressed stream (layers one after another, in tar order).
import { indexCommitBody } from "./platforms.js";
import { ApiError, api, b64, getConfig, putChunk, readBytes, unb64 } from "./util.js";

const PARALLEL = 2;
const HASH_STEP = 8 * 1024 * 1024;

/** What identifies a file across reloads: name, size, mtime and a hash of its first MiB. */
export async function fileKey(file) {
  const h = await hashwasm.createSHA256();
  h.init();
  h.update(await readBytes(file, 0, Math.min(file.size, 1024 * 1024)));
  return `imgx-upload:${file.name}:${file.size}:${file.lastModified}:${h.digest("hex")}`;
}

function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? { layers: {} };
  } catch {
    return { layers: {} };
  }
}

export class Upload {
  /** `src`: where the layers' bytes are read from (FileBytes or StreamBytes). */
  constructor(src, key, image, reference, ui) {
    Object.assign(this, { src, key, image, reference, ui });
    this.record = load(key);
    this.stopped = false;
  }

  save(expect, id, offset, state) {
    this.record.layers[expect] = { id, offset, state: b64(state) };
    this.record.reference = this.reference;
    try {
      localStorage.setItem(this.key, JSON.stringify(this.record));
    } catch {
      /* storage full or disabled: resuming then re-hashes from the start */
    }
  }

  async run() {
    const layers = this.image.layers;
    const asks = layers.map((l) => ({ expect: l.expect, size: l.size, gzip: l.gzip }));
    const check = await api("POST", "/api/check", { reference: this.reference, fileSize: this.src.size, layers: asks });
    const results = new Array(layers.length);
    const todo = [];
    const first = new Map(); // expect → the first layer index with it: a layer listed twice is sent once
    layers.forEach((l, i) => {
      const c = check.layers[i];
      if (c.present) {
        results[i] = { digest: c.digest, size: c.size };
        this.ui.layer(i, { state: "present", sent: l.size, size: l.size });
      } else if (!first.has(l.expect)) {
        first.set(l.expect, i);
        todo.push(i);
      }
    });
    // a decompressed stream is read once, in order: one layer at a time, in tar order
    if (this.src.sequential) todo.sort((a, b) => layers[a].offset - layers[b].offset);
    this.ui.start(todo.reduce((a, i) => a + layers[i].size, 0));
    let next = 0;
    const worker = async () => {
      while (next < todo.length && !this.stopped) {
        const i = todo[next++];
        results[i] = await this.layer(i);
      }
    };
    try {
      await Promise.all(Array.from({ length: this.src.sequential ? 1 : PARALLEL }, worker));
    } finally {
      this.src.close();
    }
    if (this.stopped) throw new ApiError(0, { error: "Upload stopped" });
    layers.forEach((l, i) => {
      if (results[i]) return;
      results[i] = results[first.get(l.expect)];
      this.ui.layer(i, { state: "done", sent: l.size, size: l.size, digest: results[i].digest });
    });
    // all platforms (indexUpload in platforms.js): each platform's manifest, then the index under the tag
    const out = this.image.platforms ? await api("POST", "/api/commit-index", indexCommitBody(this.reference, this.image, results)) : await api("POST", "/api/commit", {
      reference: this.reference,
      config: b64(this.image.configBytes),
      format: this.image.format,
      layers: layers.map((l, i) => ({ expect: l.expect, digest: results[i].digest, size: results[i].size, compression: l.compression, gzipped: l.gzip })),
    });
    localStorage.removeItem(this.key);
    return out;
  }

  /** Brings the hasher from `from` to `to` by reading the file locally (nothing is sent). */
  async catchUp(h, l, from, to) {
    for (let p = from; p < to; p += HASH_STEP) h.update(await this.src.read(l.offset + p, l.offset + Math.min(to, p + HASH_STEP), l.offset + l.size));
  }

  /**
   * A compressed tarball is decompressed from its start up to where this layer resumes (or starts):
   * nothing is sent meanwhile, and the page says it is catching up.
   */
  async reach(i, l, pos, sent) {
    const behind = await this.src.behind(l.offset + pos);
    if (behind < 8 * 1024 * 1024) return;
    const from = l.offset + pos - behind;
    const to = pos ? "this layer's resume point" : "this layer";
    const note = (at) => `catching up: decompressing ${this.src.format} up to ${to}, ${Math.round(((at - from) / behind) * 100)}% (nothing is sent)`;
    this.ui.layer(i, { state: "catching up", sent, size: l.size, note: note(from) });
    await this.src.seek(l.offset + pos, (at) => this.ui.layer(i, { state: "catching up", sent, size: l.size, note: note(at) }));
  }

  async layer(i) {
    const l = this.image.layers[i];
    const chunk = getConfig().chunkSize;
    const h = await hashwasm.createSHA256();
    let failures = 0;
    for (;;) {
      let sess = await api("POST", "/api/uploads", { reference: this.reference, expect: l.expect, size: l.size, gzip: l.gzip });
      h.init();
      let pos = 0;
      const saved = this.record.layers[l.expect];
      if (saved && saved.id === sess.id && saved.offset <= sess.offset) {
        h.load(unb64(saved.state));
        pos = saved.offset;
      }
      await this.reach(i, l, pos, sess.offset);
      this.ui.layer(i, { state: sess.offset ? "resuming" : "sending", sent: sess.offset, size: l.size });
      await this.catchUp(h, l, pos, sess.offset);
      pos = sess.offset;
      try {
        while (pos < l.size) {
          if (this.stopped) throw new ApiError(0, { error: "Upload stopped" });
          const end = Math.min(l.size, pos + chunk);
          const before = h.save();
          // for a plain file the body is a slice of the File: chromium streams it from disk (an
          // ArrayBuffer body is copied to the network process and ran ~6× slower) while the same
          // bytes are hashed; for a compressed tarball it is the decompressed chunk that is hashed
          const reading = this.src.read(l.offset + pos, l.offset + end, l.offset + l.size);
          const hashing = reading.then((d) => h.update(d));
          let now;
          try {
            const sending = this.src.body(l.offset + pos, l.offset + end, reading).then((b) => putChunk(`/api/uploads/${sess.id}?offset=${pos}`, b, (n) => this.ui.inflight(i, n), this.ui.signal));
            now = (await Promise.all([sending, hashing]))[0].offset;
          } catch (e) {
            await hashing.catch(() => {});
            this.ui.inflight(i, 0);
            if (!(e instanceof ApiError) || (e.status !== 0 && e.status !== 409 && e.status < 500)) throw e;
            if (++failures > 8) throw e;
            this.ui.layer(i, { state: "retrying", sent: pos, size: l.size, note: e.message });
            await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** failures)));
            // ask where the server stands (a cut chunk is kept up to where it stopped); while the
            // network is still gone, try the same chunk again: a 409 then says where to go on
            now = await api("GET", `/api/uploads/${sess.id}`).then(
              (st) => {
                if (st.dead) throw new ApiError(502, { error: st.dead, restart: true });
                return st.offset;
              },
              (e2) => {
                if (e2.status !== 0) throw e2;
                return pos;
              },
            );
          }
          // the server may hold more or less than this chunk's end: re-hash up to exactly what it holds
          if (now !== end) {
            h.load(before);
            await this.catchUp(h, l, pos, now);
          }
          this.ui.inflight(i, 0);
          pos = now;
          failures = 0;
          this.save(l.expect, sess.id, pos, h.save());
          this.ui.layer(i, { state: "sending", sent: pos, size: l.size });
        }
        const stored = await api("POST", `/api/uploads/${sess.id}/finish`, { digest: `sha256:${h.digest("hex")}` });
        this.ui.layer(i, { state: "done", sent: l.size, size: l.size, digest: stored.digest });
        return stored;
      } catch (e) {
        // a dead registry session: start this layer over with a new one (the server dropped the old)
        if (e instanceof ApiError && (e.body?.restart || e.status === 404) && ++failures <= 8) {
          delete this.record.layers[l.expect];
          this.ui.layer(i, { state: "restarting", sent: 0, size: l.size });
          continue;
        }
        this.ui.layer(i, { state: "failed", sent: pos, size: l.size, note: e.message });
        throw e;
      }
    }
  }
}
