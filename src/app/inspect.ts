import { describeSource, type ImageDescription } from "../copy/describe.ts";
import type { PlatformChoice } from "../copy/select.ts";
import { ImgxError } from "../core/errors.ts";
import type { Descriptor } from "../core/manifest.ts";
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

export interface ReferrerTree {
  subject: string;
  /** Depth-first: an artifact, then the artifacts referring to it (depth + 1). */
  referrers: (Descriptor & { subject: string; depth: number })[];
}

/** The artifacts referring to each image a source names (signatures, SBOMs…), and theirs in turn. */
export async function referrers(opts: { src: string | TransportRef; registry?: RegistryOptions }, ctx: AppContext = {}): Promise<ReferrerTree[]> {
  const t = typeof opts.src === "string" ? parseTransportRef(opts.src) : opts.src;
  const clients = ctx.clients ?? new RegistryClients();
  const source = await openSource(t, { registry: opts.registry, clients });
  try {
    const list = source.referrers?.bind(source);
    if (!list) throw new ImgxError("USAGE", `Cannot list referrers of ${source.label}: that format holds no artifacts referring to an image`);
    const out: ReferrerTree[] = [];
    for (const img of await source.images()) {
      const found: ReferrerTree["referrers"] = [];
      const seen = new Set<string>([img.descriptor.digest]);
      const walk = async (subject: Descriptor, depth: number): Promise<void> => {
        if (depth > 8) return;
        for (const d of await list(subject)) {
          ctx.signal?.throwIfAborted();
          if (seen.has(d.digest)) continue;
          seen.add(d.digest);
          found.push({ ...d, subject: subject.digest, depth });
          await walk(d, depth + 1);
        }
      };
      await walk(img.descriptor, 0);
      out.push({ subject: img.descriptor.digest, referrers: found });
    }
    return out;
  } finally {
    await source.close();
    if (!ctx.clients) clients.close();
  }
}
