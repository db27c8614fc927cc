import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { posix } from "node:path";
import { ImgxError, q } from "../core/errors.ts";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  name: string;
  type: EntryType;
  /** Offset of the body in the archive file. */
  offset: number;
  size: number;
  linkname?: string;
}

const BLOCK = 512;

/** Normalises an entry name; refuses absolute paths and `..` so nothing can point outside the archive. */
export function safeName(raw: string, archive: string): string {
  const n = raw.replace(/^\.\//, "").replace(/\/+$/, "");
  if (n.startsWith("/")) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(archive)}: entry ${q(raw)} has an absolute path`);
  if (n.split("/").includes("..")) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(archive)}: entry ${q(raw)} contains ".."`);
  return posix.normalize(n || ".");
}

function field(h: Buffer, off: number, len: number): string {
  const s = h.toString("latin1", off, off + len);
  const z = s.indexOf("\0");
  return z >= 0 ? s.slice(0, z) : s;
}

function octal(h: Buffer, off: number, len: number, archive: string, name: string): number {
  if (h[off]! & 0x80) {
    // base-256 (GNU) for sizes over 8 GiB
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + h[i]!;
    return v;
  }
  const s = field(h, off, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(archive)}: entry ${q(name)} has a malformed numeric header field`);
  return parseInt(s, 8);
}

/** Unsigned sum per POSIX; some old writers summed signed bytes, which tar still accepts. */
function checksumOk(h: Buffer): boolean {
  const stored = parseInt(field(h, 148, 8).trim(), 8);
  let sum = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : h[i]!;
    sum += b;
    signed += b > 127 ? b - 256 : b;
  }
  return sum === stored || signed === stored;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(body.toString("latin1", i, sp), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = body.toString("utf8", sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Indexes a tar file by reading only its headers and seeking over bodies. Rejects truncation,
 * bad checksums, unsafe names and duplicates, so readers can trust every entry it returns.
 * `path` is the name errors give (a decompressed spool file is reported as the archive it came from).
 */
export function indexTar(file: string, path = file): Map<string, TarEntry> {
  const entries = new Map<string, TarEntry>();
  const fd = openSync(file, "r");
  try {
    const total = fstatSync(fd).size;
    const h = Buffer.alloc(BLOCK);
    let off = 0;
    let longName: string | undefined;
    let longLink: string | undefined;
    let pax: Record<string, string> = {};
    let global: Record<string, string> = {};
    let sawEnd = false;
    while (off < total) {
      if (readSync(fd, h, 0, BLOCK, off) !== BLOCK) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: truncated tar header at byte ${off}`);
      if (h.every((b) => b === 0)) {
        // The end marker is two zero blocks; one alone means the archive was cut (or is corrupt).
        const got = readSync(fd, h, 0, BLOCK, off + BLOCK);
        if (got !== BLOCK || !h.every((b) => b === 0))
          throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: truncated: a lone zero block at byte ${off} instead of the two that end a tar`);
        sawEnd = true;
        break;
      }
      const rawName = field(h, 0, 100);
      if (!checksumOk(h)) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: not a tar archive or corrupt header at byte ${off} (checksum mismatch)`);
      const size = octal(h, 124, 12, path, rawName);
      const typeflag = String.fromCharCode(h[156]! || 48);
      const bodyOff = off + BLOCK;
      const next = bodyOff + Math.ceil(size / BLOCK) * BLOCK;
      if (bodyOff + size > total) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: truncated: entry ${q(longName ?? rawName)} needs ${size} bytes, the file ends first`);
      if (typeflag === "L" || typeflag === "K" || typeflag === "x" || typeflag === "g") {
        const body = Buffer.alloc(size);
        readSync(fd, body, 0, size, bodyOff);
        if (typeflag === "L") longName = body.toString("utf8").replace(/\0.*$/s, "");
        else if (typeflag === "K") longLink = body.toString("utf8").replace(/\0.*$/s, "");
        else if (typeflag === "x") pax = parsePax(body);
        else global = { ...global, ...parsePax(body) };
        off = next;
        continue;
      }
      const prefix = h.toString("latin1", 257, 263).startsWith("ustar") ? field(h, 345, 155) : "";
      const attrs = { ...global, ...pax };
      const full = attrs.path ?? longName ?? (prefix ? `${prefix}/${rawName}` : rawName);
      if (attrs.size !== undefined && !/^\d{1,16}$/.test(attrs.size))
        throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: entry ${q(full)} has a malformed PAX size ${q(attrs.size)}`);
      const realSize = attrs.size !== undefined ? Number(attrs.size) : size;
      const linkname = attrs.linkpath ?? longLink ?? field(h, 157, 100);
      longName = longLink = undefined;
      pax = {};
      const type: EntryType = typeflag === "0" || typeflag === "7" ? "file" : typeflag === "5" ? "dir" : typeflag === "2" ? "symlink" : typeflag === "1" ? "hardlink" : "other";
      const name = safeName(full, path);
      if (entries.has(name) && type !== "dir") throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: duplicate entry ${q(name)}`);
      if (bodyOff + realSize > total) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: truncated: entry ${q(name)} needs ${realSize} bytes, the file ends first`);
      entries.set(name, { name, type, offset: bodyOff, size: type === "file" ? realSize : 0, linkname: type === "symlink" || type === "hardlink" ? linkname : undefined });
      off = attrs.size !== undefined ? bodyOff + Math.ceil(realSize / BLOCK) * BLOCK : next;
    }
    if (!sawEnd && off !== total) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: truncated tar archive`);
    if (entries.size === 0) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(path)}: empty or not a tar archive`);
    // An image archive has no reason to link outside itself: refuse the whole archive up front.
    for (const e of entries.values()) if (e.linkname !== undefined) linkTarget(e, path);
  } finally {
    closeSync(fd);
  }
  return entries;
}

/** The archive path a link names (symlinks relative to their dir, hardlinks to the root); refuses escapes. */
function linkTarget(e: TarEntry, archive: string): string {
  const raw = e.linkname ?? "";
  const target = e.type === "symlink" && !raw.startsWith("/") ? posix.join(posix.dirname(e.name), raw) : raw;
  if (raw === "" || target.startsWith("/") || posix.normalize(target).split("/").includes(".."))
    throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(archive)}: link ${q(e.name)} points outside the archive (${q(raw)})`);
  return posix.normalize(target).replace(/^\.\//, "");
}

/** Follows symlinks and hardlinks inside the archive to a regular file; refuses targets outside it. */
export function resolveEntry(entries: Map<string, TarEntry>, name: string, archive: string): TarEntry | undefined {
  let e = entries.get(name);
  for (let hops = 0; e && (e.type === "symlink" || e.type === "hardlink"); hops++) {
    if (hops > 16) throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(archive)}: link loop at ${q(name)}`);
    e = entries.get(linkTarget(e, archive));
  }
  return e && e.type === "file" ? e : undefined;
}
