import type { Digest } from "../core/digest.ts";

export type BlobState = "copied" | "exists" | "mounted";

/** What the pipeline reports while it works; the CLI renders these as bars, lines or NDJSON. */
export type CopyEvent =
  | { type: "blob-start"; digest: Digest; size?: number; mediaType: string }
  | { type: "blob-progress"; digest: Digest; bytes: number; size?: number }
  | { type: "blob-done"; digest: Digest; size: number; mediaType: string; state: BlobState; outDigest: Digest; seconds: number }
  | { type: "manifest"; digest: Digest; mediaType: string; size: number; names: string[] }
  /** An artifact carried because its `subject` is a manifest that was copied (--referrers). */
  | { type: "referrer"; digest: Digest; subject: Digest; mediaType: string; artifactType?: string }
  | { type: "summary"; images: { digest: Digest; mediaType: string; names: string[] }[]; bytes: number; blobs: Record<BlobState, number>; referrers?: number; seconds: number };

export type EventSink = (e: CopyEvent) => void;
