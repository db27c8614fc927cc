import type { Attempts } from "../core/attempts.ts";
import type { Digest, DigestCounter } from "../core/digest.ts";
import type { Compression, Family } from "../core/media-types.ts";
import type { Descriptor, ManifestData, SourceImage } from "../core/manifest.ts";
import type { ImageName } from "../core/reference.ts";
import type { BlobFile } from "../storage/file-tree.ts";
export type { BlobFile, ManifestData, SourceImage };
import type { RegistryOptions } from "./registry/options.ts";
import type { RegistryClients } from "./registry/clients.ts";
export type { RegistryOptions };



export interface ImageSource {
  /** Human-readable name for messages, e.g. `docker-archive:save.tar`. */
  readonly label: string;
  /** The images the reference selects: one when it names a tag or digest, possibly several otherwise. */
  images(): Promise<SourceImage[]>;
  /** Manifest or index bytes for a descriptor from images() or from an index; verified against desc. */
  manifest(desc: Descriptor): Promise<ManifestData>;
  /**
   * A blob's bytes. Not verified here: the copy pipeline's verify stream is the only hasher.
   * Throws BLOB_UNKNOWN (naming the blob) when the source lacks it.
   */
  blob(desc: Descriptor, read?: BlobRead): Promise<ReadableStream<Uint8Array>>;
  /**
   * A blob's bytes from `offset` on, to resume an interrupted copy; `rangeIgnored` when the source
   * can't start there (a registry answering 200 to a Range request): the caller starts over.
   */
  blobFrom(desc: Descriptor, offset: number, read?: BlobRead): Promise<RangeRead>;
  /**
   * Local sources: where the blob lies as plain bytes in a file (a layout's blob file, an entry of
   * an uncompressed tar), so a file sink can copy it off the main thread. Undefined when it does
   * not, or when the stored size differs from the descriptor's (blob() then reports it).
   */
  blobFile?(desc: Descriptor): BlobFile | undefined;
  /**
   * Artifacts (signatures, SBOMs, attestations) whose `subject` is this manifest: the OCI 1.1
   * referrers API or its fallback tag on a registry, index.json entries in a layout. Absent on
   * sources that cannot hold them.
   */
  referrers?(subject: Descriptor): Promise<Descriptor[]>;
  /** Registry sources only: where blobs can be cross-mounted from. */
  readonly mountFrom?: { registry: string; repository: string };
  close(): Promise<void>;
}

export interface SinkCaps {
  /** Blobs the sink can take at once (a tar stream takes 1). */
  maxConcurrentWrites: number;
  /** Blobs go over the network: a write also waits on the other end (it hashes and stores, then answers). */
  remote?: boolean;
  /** Whether an index can be stored (docker-archive holds one image per name). */
  acceptsIndex: boolean;
  /** A tar entry header needs its size before the body: bodies of unknown size get spooled. */
  needsKnownSize: boolean;
  /** Manifest family the format requires; undefined keeps what the source has. */
  family?: Family;
  /** Layer compression the format requires; undefined keeps what the source has. */
  layerCompression?: Compression;
  /** Several top-level images in one destination (OCI layout, docker-archive with several tags). */
  multiImage: boolean;
  /** Holds only container images (docker-archive): artifacts and configs that are not image configs are refused. */
  needsImageConfig?: boolean;
  /** Stores artifacts that refer to an image, findable by their subject (registry, OCI layout/archive). */
  referrers?: boolean;
}

/** How a blob read may be repeated and stopped (registry sources; local ones ignore it). */
export interface BlobRead {
  /** The send budget shared with the caller, who may repeat the read after a body cut mid-way. */
  attempts?: Attempts;
  signal?: AbortSignal;
}

export type RangeRead = { stream: ReadableStream<Uint8Array>; rangeIgnored?: undefined } | { rangeIgnored: true };


/** A temp file a directory sink lends the pipeline to fill; `keep` stores it under its verified digest. */
export interface FileTarget {
  path: string;
  /** Names the destination in messages (the temp name means nothing to a user). */
  label: string;
  /** Aborted (with the error to report) when the sink is aborted: the copy stops between chunks. */
  signal: AbortSignal;
  keep(digest: Digest): Promise<void>;
  discard(): Promise<void>;
}

/** A blob on its way into a sink. */
export interface BlobInput {
  mediaType: string;
  /** Known in advance when bytes are copied unchanged; unknown for recompressed layers. */
  digest?: Digest;
  size?: number;
  stream: ReadableStream<Uint8Array>;
  /**
   * When set, `stream` carries the blob from this offset on: the sink appends it to the partial
   * data it reported from partialBlob(); 0 or unset means "from the start" (drop any partial).
   */
  offset?: number;
  /**
   * The verified digest and size; valid only once `stream` ended without error. The stream errors
   * instead of ending when the bytes do not match, so a sink that commits only after a clean end
   * never commits a bad blob.
   */
  result(): { digest: Digest; size: number };
}

export interface ImageSink {
  readonly label: string;
  readonly caps: SinkCaps;
  hasBlob(desc: Descriptor): Promise<boolean>;
  /**
   * Resumable sinks: bytes of this blob kept from an interrupted earlier run, already re-hashed by
   * the sink (native sha256), so the copy continues at `offset`. Trusted only after the whole blob verifies.
   */
  partialBlob?(desc: Descriptor): Promise<{ offset: number; hashed: DigestCounter } | undefined>;
  /**
   * Directory sinks: a temp file for a blob whose digest and size are known, which the pipeline
   * fills from a BlobFile (verifying it on the way) instead of calling putBlob.
   */
  fileTarget?(desc: Descriptor): Promise<FileTarget | undefined>;
  /** Consumes `blob.stream` to its end and stores it under `blob.result().digest`. */
  putBlob(blob: BlobInput): Promise<void>;
  /** Registry sinks only: cross-repository mount; false means "upload it instead". */
  mountBlob?(desc: Descriptor, from: { registry: string; repository: string }): Promise<boolean>;
  /**
   * Stores a manifest or index (exact bytes). `top` marks a top-level image (recorded in index.json /
   * manifest.json / as a tag) as opposed to an index's child; `names` are the full references or
   * bare tags to record for it (see SourceImage.names), possibly none.
   */
  putManifest(desc: Descriptor, bytes: Uint8Array, names: readonly ImageName[], top: boolean): Promise<void>;
  /** Atomic finish: index.json / manifest.json / tar trailer written last, temp path renamed. */
  commit(): Promise<void>;
  /**
   * Leaves the destination as it was before; `cause` lets a resumable sink keep partial downloads
   * after a network failure but not after an integrity failure.
   */
  abort(cause?: unknown): Promise<void>;
}

/** Options every transport may read; registry ones are ignored by local transports. */
export interface TransportOptions {
  /**
   * What to do when the destination exists. "error": refuse (convert's default). "update": an OCI
   * layout gains the new images next to its old ones (skipping blobs it has); an archive file is
   * replaced atomically at commit.
   */
  existing?: "error" | "update";
  registry?: RegistryOptions;
  /** Registry clients to share (one per registry per process); a private one is made when absent. */
  clients?: RegistryClients;
}
