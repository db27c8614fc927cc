// Push bodies without allocating them per request: every layer is one shared seeded pattern
// followed by a 64-byte suffix unique to the run, shard, operation and layer, so the registry can
// never deduplicate two of them. The pattern is hashed once; a layer's digest is that hash state
// copied and fed the suffix (O(1) per layer), and its bytes are streamed as views of the pattern.
import type { Digest } from "../core/digest.ts";
import { ImgxError } from "../core/errors.ts";

export const SUFFIX_BYTES = 64;
const STREAM_CHUNK = 256 * 1024;

export interface PushLayer {
  digest: Digest;
  size: number;
  suffix: Uint8Array;
}

/** xorshift32 bytes: reproducible from the seed, incompressible enough that nothing dedupes or shrinks them. */
function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, Math.floor(size / 4));
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) out[i] = i & 0xff;
  return out;
}

export class PushBodies {
  private readonly pattern: Uint8Array;
  private readonly hashed: Bun.CryptoHasher;
  private readonly enc = new TextEncoder();

  constructor(readonly layerSize: number, seed: number) {
    if (!Number.isInteger(layerSize) || layerSize < SUFFIX_BYTES) throw new ImgxError("USAGE", `Cannot use --layer-size ${layerSize}: layers need at least ${SUFFIX_BYTES} bytes (each ends in a unique marker)`);
    this.pattern = pattern(layerSize - SUFFIX_BYTES, seed);
    this.hashed = new Bun.CryptoHasher("sha256");
    this.hashed.update(this.pattern);
  }

  /** A layer unique to `id` (at most 63 bytes, e.g. "<run>/<shard>/<op>/<layer>"). */
  layer(id: string): PushLayer {
    const suffix = new Uint8Array(SUFFIX_BYTES).fill(0x0a);
    suffix.set(this.enc.encode(id).subarray(0, SUFFIX_BYTES - 1));
    const h = this.hashed.copy();
    h.update(suffix);
    return { digest: `sha256:${h.digest("hex")}`, size: this.layerSize, suffix };
  }

  /** Bytes [from, to) of a layer as a stream of views (no copy of the pattern). */
  stream(layer: PushLayer, from = 0, to = layer.size): ReadableStream<Uint8Array> {
    const p = this.pattern;
    let pos = from;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (pos >= to) return c.close();
        if (pos < p.length) {
          const end = Math.min(to, p.length, pos + STREAM_CHUNK);
          c.enqueue(p.subarray(pos, end));
          pos = end;
        } else {
          const end = Math.min(to, layer.size);
          c.enqueue(layer.suffix.subarray(pos - p.length, end - p.length));
          pos = end;
        }
      },
    });
  }
}
