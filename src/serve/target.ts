import { ImgxError, q } from "../core/errors.ts";
import { parseDockerReference, type DockerReference } from "../core/reference.ts";
import type { RegistryClient } from "../transports/registry/client.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import type { RegistryOptions } from "../transports/types.ts";

/**
 * The registries a serve process may talk to (--registry), one client each. Every host the page
 * names is checked against this list before any request leaves the server: the page can never make
 * the server fetch an address it chose (no server-side request forgery).
 */
export class Targets {
  readonly hosts: string[];
  private readonly clients: RegistryClients;

  constructor(hosts: string[], opts: RegistryOptions) {
    // one client per registry for the server's lifetime: one ping, one token cache, one pool
    this.clients = new RegistryClients(opts);
    if (hosts.length === 0) throw new ImgxError("USAGE", "Cannot serve without a registry: pass --registry HOST (repeatable)");
    this.hosts = hosts.map((h) => h.replace(/^(https?|docker):\/\//, "").replace(/\/+$/, ""));
  }

  client(registry: string): RegistryClient {
    if (!this.hosts.includes(registry))
      throw new ImgxError("DENIED", `Registry ${q(registry)} is not one this server may use (allowed: ${this.hosts.join(", ")}; add it with --registry)`);
    return this.clients.get(registry);
  }

  close(): void {
    this.clients.close();
  }

  /**
   * "host/repo:tag" naming an allowed host, or a bare "repo:tag" meaning the first registry. A first
   * component that looks like a host but is not allowed is refused, never taken as a repository.
   */
  resolve(input: string): DockerReference & { tag: string } {
    const s = String(input ?? "").trim();
    if (!s) throw new ImgxError("BAD_REFERENCE", "Cannot push: the target reference is empty (e.g. repo:tag)");
    const first = s.split("/")[0]!;
    const hasHost = s.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["));
    const ref = parseDockerReference(hasHost ? s : `${this.hosts[0]}/${s}`);
    if (ref.digest) throw new ImgxError("BAD_REFERENCE", `Cannot push to ${q(s)}: name a tag, not a digest`);
    this.client(ref.registry);
    return { ...ref, tag: ref.tag ?? "latest" };
  }
}
