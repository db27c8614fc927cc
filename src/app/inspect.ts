import { describeSource, type ImageDescription } from "../copy/describe.ts";
import type { PlatformChoice } from "../copy/select.ts";
import { hostPlatform } from "../core/platform.ts";
import { openSource } from "../transports/open.ts";
import { parseTransportRef, type TransportRef } from "../transports/parse.ts";
import { RegistryClients } from "../transports/registry/clients.ts";
import type { RegistryOptions } from "../transports/types.ts";
import type { AppContext } from "./transfer.ts";

export interface InspectOptions {
  src: string | TransportRef;
  platforms?: PlatformChoice;
  registry?: RegistryOptions;
}

/** Describes every image a source offers: manifest or index, platforms, config summary, layers, raw bytes. */
export async function inspect(opts: InspectOptions, ctx: AppContext = {}): Promise<ImageDescription[]> {
  const t = typeof opts.src === "string" ? parseTransportRef(opts.src) : opts.src;
  const clients = ctx.clients ?? new RegistryClients();
  const source = await openSource(t, { registry: opts.registry, clients });
  try {
    return await describeSource(source, opts.platforms ?? { all: false, platforms: [hostPlatform()] });
  } finally {
    await source.close();
    if (!ctx.clients) clients.close();
  }
}
