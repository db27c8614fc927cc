// Reads a tarball's index in the browser with File.slice: only headers, manifests and configs are
// read, never the layers. Works on any Blob (the unit tests feed it Bun's file blobs).

const dec = new TextDecoder();

function str(b, off, len) {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return dec.decode(z < 0 ? s : s.subarray(0, z));
}

function num(b, off, len) {
  if (b[off] & 0x80) {
    // base-256 (GNU) for sizes over 8 GiB
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i];
    return n;
  }
  const s = str(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function pax(text) {
  const out = {};
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(" ", i);
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export class BadArchive extends Error {}

const norm = (p) => p.replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "");

/**
 * The header logic of a tar, fed one 512-byte header at a time: long names (GNU L/K, PAX x/g) are
 * carried to the next entry. Both indexers use it: indexTar below (File.slice, seeking) and
 * indexTarStream in tar-stream.js (a decompressed stream, read in order).
 */
export class TarHeaders {
  constructor() {
    this.entries = new Map(); // name → { offset, size, type, link }
    this.longName = this.longLink = undefined;
    this.paxHdr = {};
  }

  /**
   * The header `h` found at byte `off`: undefined at the end-of-archive block, else where its body
   * lies ({ data, size, next }) and `meta` when the body must be passed to meta() before the next header.
   */
  header(h, off) {
    if (h.every((x) => x === 0)) return undefined;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (sum !== num(h, 148, 8)) throw new BadArchive(`Not a tar file (bad header checksum at byte ${off})`);
    const type = String.fromCharCode(h[156] || 48);
    const size = this.paxHdr.size !== undefined ? Number(this.paxHdr.size) : num(h, 124, 12);
    const data = off + 512;
    const at = { name: str(h, 0, 100), data, size, next: data + Math.ceil(size / 512) * 512 };
    if (type === "L" || type === "K" || type === "x" || type === "g") return { ...at, meta: type };
    const prefix = str(h, 345, 155);
    const name = norm(this.paxHdr.path ?? this.longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100)));
    const link = this.paxHdr.linkpath ?? this.longLink ?? str(h, 157, 100);
    if (type === "0" || type === "7") this.entries.set(name, { offset: data, size, type: "file" });
    else if (type === "2" || type === "1") this.entries.set(name, { offset: data, size: 0, type: type === "2" ? "symlink" : "hardlink", link });
    this.longName = this.longLink = undefined;
    this.paxHdr = {};
    return { ...at, name, file: type === "0" || type === "7" };
  }

  /** The body of a long-name or PAX header (its `meta` type from header()). */
  meta(type, body) {
    const text = dec.decode(body).replace(/\0+$/, "");
    if (type === "L") this.longName = text;
    else if (type === "K") this.longLink = text;
    else if (type === "x") this.paxHdr = pax(text);
  }
}

/** Map of entry name → { offset, size, type, link } for regular files and symlinks. */
export async function indexTar(file) {
  const t = new TarHeaders();
  let off = 0;
  for (;;) {
    if (off + 512 > file.size) throw new BadArchive(`Truncated tar: it ends at byte ${file.size} inside the header at ${off} (was the file copied completely?)`);
    const e = t.header(new Uint8Array(await file.slice(off, off + 512).arrayBuffer()), off);
    if (!e) break;
    if (e.data + e.size > file.size) throw new BadArchive(`Truncated tar: entry ${JSON.stringify(e.name)} needs ${e.size} bytes at ${e.data} but the file ends at ${file.size}`);
    if (e.meta) t.meta(e.meta, new Uint8Array(await file.slice(e.data, e.data + e.size).arrayBuffer()));
    off = e.next;
  }
  return t.entries;
}

/** The regular-file entry a name leads to, following symlinks (relative to the entry) and hardlinks. */
export function resolve(entries, name) {
  let n = norm(name);
  for (let hop = 0; hop < 16; hop++) {
    const e = entries.get(n);
    if (!e) throw new BadArchive(`The archive has no entry ${JSON.stringify(name)}`);
    if (e.type === "file") return { ...e, name: n };
    const dir = e.type === "symlink" && !e.link.startsWith("/") ? n.split("/").slice(0, -1) : [];
    const parts = [...dir];
    for (const p of norm(e.link).split("/")) {
      if (p === "..") parts.pop();
      else if (p && p !== ".") parts.push(p);
    }
    n = parts.join("/");
  }
  throw new BadArchive(`Too many links from ${JSON.stringify(name)}`);
}

export async function readEntry(file, entries, name, max = 16 * 1024 * 1024) {
  const e = resolve(entries, name);
  if (e.size > max) throw new BadArchive(`${name} is ${e.size} bytes, too large for a manifest or config`);
  return new Uint8Array(await file.slice(e.offset, e.offset + e.size).arrayBuffer());
}

export async function readJsonEntry(file, entries, name) {
  try {
    return JSON.parse(dec.decode(await readEntry(file, entries, name)));
  } catch (e) {
    if (e instanceof BadArchive) throw e;
    throw new BadArchive(`${name} in the archive is not valid JSON`);
  }
}

/** gzip / zstd / none, by magic bytes (names lie; compressed layers occur in tools' tarballs). */
export async function sniff(file, offset) {
  const b = new Uint8Array(await file.slice(offset, offset + 4).arrayBuffer());
  if (b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  return "none";
}
