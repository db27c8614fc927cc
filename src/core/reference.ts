import { parseDigest, type Digest } from "./digest.ts";
import { ImgxError, q } from "./errors.ts";

/** A registry image reference after Docker's normalisation. */
export interface DockerReference {
  registry: string; // "docker.io", "localhost:5000", "[::1]:5000"
  repository: string; // "library/alpine"
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = "docker.io";
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::\d{1,5})?$/;
const IPV6_HOST_RE = /^\[[0-9a-fA-F:.]+\](?::\d{1,5})?$/;

function bad(input: string, reason: string): ImgxError {
  return new ImgxError("BAD_REFERENCE", `Cannot parse image reference ${q(input)}: ${reason}`);
}

/**
 * Parses `[registry/]repo[:tag][@digest]` with Docker's rules: the first component is a registry
 * when it contains "." or ":" or is "localhost"; Docker Hub names get "library/"; no tag and no
 * digest means ":latest".
 */
export function parseDockerReference(input: string, opts: { defaultTag?: boolean } = {}): DockerReference {
  let rest = input.trim();
  if (rest.startsWith("docker://")) rest = rest.slice(9);
  if (!rest) throw bad(input, "it is empty");
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    try {
      digest = parseDigest(rest.slice(at + 1), "digest");
    } catch (e) {
      throw bad(input, (e as Error).message.replace(/^Cannot [^:]*: /, ""));
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, `tag ${q(tag)} must be 1-128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
    if (!HOST_RE.test(first) && !IPV6_HOST_RE.test(first)) throw bad(input, `registry host ${q(first)} is not a valid host[:port]`);
    registry = first;
    parts.shift();
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (parts.length === 0 || parts.some((p) => p === "")) throw bad(input, "repository name is empty or has an empty path component");
  for (const p of parts) {
    if (!COMPONENT_RE.test(p)) {
      const why = /[A-Z]/.test(p) ? "repository names must be lowercase" : "path components are lowercase letters, digits and single separators (. _ __ -)";
      throw bad(input, `${q(p)} is not a valid repository name component: ${why}`);
    }
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (registry.length + 1 + repository.length > 255) throw bad(input, "name is longer than 255 characters");
  if (!tag && !digest && opts.defaultTag !== false) tag = "latest";
  return { registry, repository, tag, digest };
}

/** Parses a repository without tag or digest (for `imgx tags`). */
export function parseRepository(input: string): DockerReference {
  const r = parseDockerReference(input, { defaultTag: false });
  if (r.tag || r.digest) throw bad(input, "expected a repository without tag or digest");
  return r;
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

export function formatReference(r: DockerReference): string {
  let s = `${r.registry}/${r.repository}`;
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

/** The reference a tag in an archive gets when it is short ("alpine:3" → docker.io/library/alpine:3). */
export function familiarName(r: DockerReference): string {
  let name = r.registry === DOCKER_HUB ? r.repository.replace(/^library\//, "") : `${r.registry}/${r.repository}`;
  if (r.tag) name += `:${r.tag}`;
  return name;
}

/** The host to connect to: Docker Hub's API lives on registry-1.docker.io. */
export function registryHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/**
 * A name an image carries at a destination, parsed once by the copy pipeline and handed to every
 * sink: `given` exactly as the source or the user wrote it ("app:1.2", "host/repo:tag", or a bare
 * tag "1.2" as skopeo's oci:DIR:tag stores it); `ref` when it is a full reference; `tag` always.
 */
export interface ImageName {
  given: string;
  tag: string;
  ref?: DockerReference;
}

export function parseImageName(name: string): ImageName {
  if (isTag(name) && !name.includes("/")) return { given: name, tag: name };
  try {
    const ref = parseDockerReference(name);
    return { given: name, ref, tag: ref.tag ?? "latest" };
  } catch {
    return { given: name, tag: name };
  }
}
