import type { ImageSink, ImageSource, TransportOptions } from "./types.ts";
import type { TransportRef } from "./parse.ts";
import { openOciLayoutSink, openOciLayoutSource } from "./oci-layout/index.ts";
import { openOciArchiveSink, openOciArchiveSource } from "./oci-archive/index.ts";
import { openDockerArchiveSink, openDockerArchiveSource } from "./docker-archive/index.ts";
import { openRegistrySink, openRegistrySource } from "./registry/index.ts";
import { RegistryClients } from "./registry/clients.ts";

/** The one place that maps a parsed reference to a concrete transport. */
export async function openSource(t: TransportRef, opts: TransportOptions = {}): Promise<ImageSource> {
  switch (t.kind) {
    case "docker":
      return openRegistrySource(t.ref, opts.registry ?? {}, (opts.clients ?? new RegistryClients()).get(t.ref.registry, opts.registry));
    case "oci":
      return openOciLayoutSource(t.path, t.name);
    case "oci-archive":
      return openOciArchiveSource(t.path, t.name);
    case "docker-archive":
      return openDockerArchiveSource(t.path, t.name);
  }
}

export async function openSink(t: TransportRef, opts: TransportOptions = {}): Promise<ImageSink> {
  switch (t.kind) {
    case "docker":
      return openRegistrySink(t.ref, opts.registry ?? {}, (opts.clients ?? new RegistryClients()).get(t.ref.registry, opts.registry));
    case "oci":
      return openOciLayoutSink(t.path, { existing: opts.existing ?? "error" });
    case "oci-archive":
      return openOciArchiveSink(t.path, { existing: opts.existing ?? "error" });
    case "docker-archive":
      return openDockerArchiveSink(t.path, { existing: opts.existing ?? "error" });
  }
}
