import type { SourceObject } from '../model.js';
import type { KeyRange } from './key-range.js';

/**
 * Listing ports for backfill and verify. Separate from the replicate ports:
 * `replicateObject` never lists, and a listing is only useful to these two.
 */

/** One live GCS object as a listing reports it: enough to plan without reading it. */
export interface ListedSourceObject {
  name: string;
  /** Decimal int64 generation. */
  generation: string;
  /** Stored size in bytes. */
  size: number;
  /** Base64 big-endian CRC32C, as GCS reports it. */
  crc32c?: string;
  /** RFC 3339 creation time of this generation. */
  timeCreated?: string;
  /** The whole object resource, when the lister was asked for it: a copy then skips its own metadata read. */
  resource?: SourceObject;
  /** When `resource` was listed (Date.now()): an old one is read again, since headers may have changed since. */
  listedAtMs?: number;
}

/** One S3 object as ListObjectsV2 reports it (no user metadata: S3 does not list it). */
export interface ListedSinkObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

/**
 * Lists live GCS objects whose names start with `prefix`, in ascending UTF-8
 * byte order of name (the order GCS lists in), page by page: memory holds at
 * most a page or two, never the listing. Throws classified errors. With
 * `range`, only names in it are listed, and only they are requested.
 */
export interface SourceLister {
  list(bucket: string, prefix: string, signal: AbortSignal, range?: KeyRange): AsyncIterable<ListedSourceObject>;
}

/** One list call's names from a start name on, for planning (names only). */
export interface ProbePage {
  names: string[];
  /** More names follow the page. */
  truncated: boolean;
}

/** One list call at a time, from `startOffset` (inclusive) on: what the range planner samples with. */
export interface SourceProber {
  probe(bucket: string, prefix: string, startOffset: string | undefined, signal: AbortSignal): Promise<ProbePage>;
}

/**
 * Lists S3 objects whose keys start with `prefix`, in ascending UTF-8 byte
 * order of key (the order ListObjectsV2 returns), page by page. With
 * `range` (of keys), only keys in it are listed, and listing stops at its end.
 */
export interface SinkLister {
  list(prefix: string, signal: AbortSignal, range?: KeyRange): AsyncIterable<ListedSinkObject>;
  /** Multipart uploads in progress at keys starting with `prefix`; absent where the destination has none to list. */
  uploadsInProgress?(prefix: string, signal: AbortSignal): Promise<UploadsInProgress>;
}

/** Multipart uploads in progress under a prefix: what killed or failed copies may have left behind. */
export interface UploadsInProgress {
  count: number;
  /** When the oldest of them was created (RFC 3339); absent when there is none. */
  oldestInitiated?: string;
}

/**
 * The one object holding an execution's shared range plan (PLAN_BUCKET): read
 * by every task, created once. The protocol is in shared-plan.ts.
 */
export interface PlanStore {
  /** Where the object is, for messages: `gs://BUCKET/OBJECT`. */
  readonly location: string;
  /** The object's text and generation, or undefined when it does not exist yet. */
  read(signal: AbortSignal): Promise<{ text: string; generation: string } | undefined>;
  /** Creates the object only if none exists (a create-only precondition): false when one already did. */
  create(text: string, signal: AbortSignal): Promise<boolean>;
}
