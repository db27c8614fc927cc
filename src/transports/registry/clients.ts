import type { RegistryOptions } from "./options.ts";
import { RegistryClient } from "./client.ts";

/** Options that make two clients of one registry different (connection, identity, policy). */
const IDENTITY: (keyof RegistryOptions)[] = ["tlsVerify", "plainHttp", "caFile", "username", "password", "registryToken", "retries", "timeoutMs", "maxConnections"];

/**
 * The registry clients of one process (or one job): a source and a sink on the same registry with
 * the same credentials share one client, so they ping once, hold one token per scope and one pool.
 * Created by the caller (the CLI, a serve request, a bench run) — never a module-level singleton.
 */
export class RegistryClients {
  private readonly byKey = new Map<string, RegistryClient>();
  constructor(private readonly defaults: RegistryOptions = {}) {}

  get(registry: string, opts: RegistryOptions = {}): RegistryClient {
    const merged = { ...this.defaults, ...stripUndefined(opts) };
    // kept in memory only; the key never leaves this map
    const key = JSON.stringify([registry, ...IDENTITY.map((k) => merged[k] ?? null)]);
    let c = this.byKey.get(key);
    if (!c) {
      c = new RegistryClient(registry, merged);
      this.byKey.set(key, c);
    }
    return c;
  }

  /** Closes every client's idle connections. */
  close(): void {
    for (const c of this.byKey.values()) c.close();
    this.byKey.clear();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
