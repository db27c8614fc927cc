// The image config a schema 1 image never had, synthesised from its newest v1Compatibility and the
// diff_ids of its layers, byte for byte as containers/image (skopeo) writes it, so that imgx and
// skopeo give a schema 1 image the same config digest (and image ID).
import type { Digest } from "./digest.ts";
import type { Family } from "./media-types.ts";
import type { Schema1Layer } from "./schema1.ts";

/** Go's encoding/json escapes these in strings; the characters occur only inside JSON strings. */
const goEscape = (json: string) => json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

function history(layers: Schema1Layer[], zeroTime: boolean): Record<string, unknown>[] {
  return layers.map((l) => {
    const v = l.v1;
    const cmd = (v.container_config as { Cmd?: unknown } | undefined)?.Cmd;
    const h: Record<string, unknown> = {};
    if (typeof v.created === "string") h.created = v.created;
    else if (zeroTime) h.created = GO_ZERO_TIME;
    if (Array.isArray(cmd) && cmd.length) h.created_by = cmd.join(" ");
    if (typeof v.author === "string" && v.author) h.author = v.author;
    if (typeof v.comment === "string" && v.comment) h.comment = v.comment;
    if (l.throwaway) h.empty_layer = true;
    return h;
  });
}

/**
 * Docker family: the newest v1Compatibility as it is (a Go map: keys sorted), without the fields
 * that describe the v1 layer chain, plus rootfs and history (containers/image's ToSchema2Config).
 */
function dockerConfig(layers: Schema1Layer[], diffIds: Digest[]): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...layers[layers.length - 1]!.v1 };
  for (const k of ["id", "parent", "parent_id", "layer_id", "throwaway", "Size"]) delete raw[k];
  raw.rootfs = { type: "layers", diff_ids: diffIds };
  raw.history = history(layers, true);
  return Object.fromEntries(Object.keys(raw).sort().map((k) => [k, raw[k]]));
}

const sortKeys = (o: unknown) => (o && typeof o === "object" && !Array.isArray(o) ? Object.fromEntries(Object.keys(o).sort().map((k) => [k, (o as Record<string, unknown>)[k]])) : o);

/** OCI family: the same information in the OCI image-spec's field order (Go struct, omitempty). */
function ociConfig(docker: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (o: Record<string, unknown>, k: string, v: unknown) => {
    if (v === undefined || v === null || v === "" || v === false || (Array.isArray(v) && v.length === 0)) return;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) return;
    o[k] = v;
  };
  put(out, "created", docker.created);
  put(out, "author", docker.author);
  out.architecture = docker.architecture ?? "";
  put(out, "variant", docker.variant);
  out.os = docker.os ?? "";
  put(out, "os.version", docker["os.version"]);
  put(out, "os.features", docker["os.features"]);
  const c = (docker.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = {};
  put(config, "User", c.User);
  put(config, "ExposedPorts", sortKeys(c.ExposedPorts));
  put(config, "Env", c.Env);
  put(config, "Entrypoint", c.Entrypoint);
  put(config, "Cmd", c.Cmd);
  put(config, "Volumes", sortKeys(c.Volumes));
  put(config, "WorkingDir", c.WorkingDir);
  put(config, "Labels", sortKeys(c.Labels));
  put(config, "StopSignal", c.StopSignal);
  put(config, "ArgsEscaped", c.ArgsEscaped);
  out.config = config;
  out.rootfs = docker.rootfs;
  out.history = (docker.history as Record<string, unknown>[]).map((h) => (h.created === GO_ZERO_TIME ? Object.fromEntries(Object.entries(h).filter(([k]) => k !== "created")) : h));
  return out;
}

/** The config bytes for a schema 1 image whose layers (oldest first, throwaway ones included) have these diff_ids. */
export function schema1Config(layers: Schema1Layer[], diffIds: Digest[], family: Family): Uint8Array {
  const docker = dockerConfig(layers, diffIds);
  return new TextEncoder().encode(goEscape(JSON.stringify(family === "oci" ? ociConfig(docker) : docker)));
}
