import { statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { ImgxError, q } from "../core/errors.ts";
import { parseDockerReference, type DockerReference } from "../core/reference.ts";
import { indexTar } from "../storage/tar-index.ts";
import { fileCompression } from "../storage/archive-file.ts";

export type LocalKind = "oci" | "oci-archive" | "docker-archive";
export type TransportRef =
  | { kind: "docker"; ref: DockerReference; input: string }
  | { kind: LocalKind; path: string; name?: string; input: string };

const PREFIXES: LocalKind[] = ["oci", "oci-archive", "docker-archive"];

/**
 * Parses a transport reference: `docker://REF`, `oci:DIR[:name]`, `oci-archive:FILE[:name]`,
 * `docker-archive:FILE[:name]`, a bare path (sniffed by content), or a bare registry reference.
 * `forWrite` allows bare paths that do not exist yet; `defaultLocal` says what a new bare path becomes.
 */
export function parseTransportRef(input: string, opts: { forWrite?: boolean; defaultLocal?: LocalKind } = {}): TransportRef {
  if (input.startsWith("docker://")) return { kind: "docker", ref: parseDockerReference(input.slice(9)), input };
  for (const p of PREFIXES) {
    if (input.startsWith(`${p}:`)) {
      const { path, name } = splitPathName(input.slice(p.length + 1));
      if (!path) throw new ImgxError("BAD_REFERENCE", `Cannot parse ${q(input)}: ${p}: needs a path`);
      return { kind: p, path, name, input };
    }
  }
  // `docker save app | imgx convert - oci:out`: standard input is spooled by the archive reader
  if (input === "-") return { kind: "docker-archive", path: "-", input };
  const local = looksLikePath(input);
  if (local) {
    // "path:name" where path exists (skopeo needs a prefix for this; we accept it bare)
    const c = input.indexOf(":");
    if (c > 0 && !existsSync(input) && existsSync(input.slice(0, c))) {
      const kind = sniffPath(input.slice(0, c));
      if (kind) return { kind, path: input.slice(0, c), name: input.slice(c + 1) || undefined, input };
    }
    const sniffed = sniffPath(input);
    if (sniffed) return { kind: sniffed, path: input, input };
    if (existsSync(input) && !opts.forWrite) {
      if (statSync(input).isFile()) indexTar(input); // a broken tar explains itself (truncated, bad header…)
      throw new ImgxError("BAD_ARCHIVE", `Cannot read ${q(input)}: not an OCI layout (no oci-layout file) or an image tarball (no manifest.json or index.json)`);
    }
    if (opts.forWrite) return { kind: opts.defaultLocal ?? guessKindFromName(input), path: input, input };
    throw new ImgxError("NOT_FOUND", `Cannot read ${q(input)}: no such file or directory`);
  }
  return { kind: "docker", ref: parseDockerReference(input), input };
}

/** `path[:name]` split at the first colon, as skopeo does (so the name may be `host:port/repo:tag`). */
function splitPathName(s: string): { path: string; name?: string } {
  const i = s.indexOf(":");
  if (i < 0) return { path: s };
  return { path: s.slice(0, i), name: s.slice(i + 1) || undefined };
}

function looksLikePath(s: string): boolean {
  if (s.startsWith("/") || s.startsWith("./") || s.startsWith("../") || s === "." || s === "..") return true;
  if (/\.(tar|tgz|tar\.gz)$/.test(s)) return true;
  if (existsSync(s)) return true;
  // a registry reference has a lowercase name; anything else that isn't a reference is a path
  try {
    parseDockerReference(s);
    return false;
  } catch {
    return true;
  }
}

function guessKindFromName(p: string): LocalKind {
  return /\.(tar|tgz|tar\.gz)$/.test(p) ? "docker-archive" : "oci";
}

/** Detects what a local path holds: OCI layout dir, OCI archive, or docker-save tarball (either format). */
export function sniffPath(p: string): LocalKind | undefined {
  let st;
  try {
    st = statSync(p);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return existsSync(join(p, "oci-layout")) ? "oci" : undefined;
  if (!st.isFile()) return undefined;
  // a compressed tarball can't be sniffed without decompressing it all: `docker save | gzip` is the common case
  if (fileCompression(p) !== "none") return "docker-archive";
  let names: Set<string>;
  try {
    names = new Set(indexTar(p).keys()); // headers only, seeking over bodies: cheap even for GiB archives
  } catch {
    return undefined; // parseTransportRef re-reads it to report why
  }
  if (names.has("manifest.json")) return "docker-archive"; // includes Docker 25+ (OCI layout + manifest.json)
  if (names.has("index.json") || names.has("oci-layout")) return "oci-archive";
  return undefined;
}
