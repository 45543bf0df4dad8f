/**
 * The vocabulary of gcs2s3. Depends on nothing.
 */

/** A GCS object, optionally pinned to one generation. */
export interface ObjectRef {
  bucket: string;
  name: string;
  /** GCS generation as a decimal string (int64: keep it out of `number`). */
  generation?: string;
}

/** What GCS says about one generation of one object: everything the copy needs. */
export interface SourceObject {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  /** Stored size in bytes (the compressed size for gzip-encoded objects). */
  size: number;
  /** Base64 of the big-endian CRC32C of the stored bytes, as GCS reports it. */
  crc32c?: string;
  /** Base64 MD5 of the stored bytes; absent for composite objects. */
  md5Hash?: string;
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** Custom metadata (`x-goog-meta-*`). */
  metadata: Record<string, string>;
  /** RFC 3339 time the generation was created. */
  timeCreated?: string;
}

/** What the destination holds at one key, as far as replication decisions need. */
export interface SinkObject {
  key: string;
  etag: string;
  size: number;
  /** Provenance `gcs-generation`: absent when the object was not written by gcs2s3. */
  generation?: string;
  /** Provenance `gcs-crc32c`. */
  crc32c?: string;
  /** Provenance `gcs-bucket`. */
  sourceBucket?: string;
  /** The destination's own full-object CRC32C of the stored bytes (base64), where it keeps one. */
  storedCrc32c?: string;
  /**
   * The destination's storage class (S3: `STANDARD`, `GLACIER`, …), where it
   * has classes. Nothing in gcs2s3 reads destination bytes, so objects in
   * archive classes are skipped and verified like any other.
   */
  storageClass?: string;
  /**
   * The bytes cannot be read or copied in place without a restore (S3's
   * GLACIER and DEEP_ARCHIVE): a metadata change is applied by writing the
   * object again from GCS instead of an in-place copy.
   */
  archived?: boolean;
  /** Provenance `gcs-metageneration`: absent on copies made before it was recorded. */
  metageneration?: string;
  /** Headers and user metadata (provenance included) as the destination holds them, decoded; absent where the sink cannot tell. */
  headers?: StoredHeaders;
}

/** The copied headers and user metadata of a destination object. */
export interface StoredHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** User metadata without the `x-amz-meta-` prefix, keys lower-cased. */
  metadata: Record<string, string>;
}

/** When things happened, for replication-lag figures (RFC 3339 strings). */
export interface EventTimes {
  /** When GCS emitted the event (`eventTime` attribute / CloudEvent `time`). */
  eventTime?: string;
  /** When the generation was created (`timeCreated` of the object resource). */
  timeCreated?: string;
  /**
   * Not a time: the generation's stored size in bytes (`size` of the object
   * resource), where the event carries one. It tells the core whether a copy
   * of this generation could have left a multipart upload behind.
   */
  size?: number;
}

/** A change to one object, decoded from a notification, a push or a command line. */
export type ObjectEvent =
  | ({ kind: 'finalize'; ref: ObjectRef } & EventTimes)
  | ({ kind: 'metadataUpdate'; ref: ObjectRef & { generation: string } } & EventTimes)
  | ({ kind: 'delete'; ref: ObjectRef & { generation: string } } & EventTimes);

export type SkipReason =
  /** The destination already holds this generation. */
  | 'already-current'
  /** The destination holds a newer generation: an older one never overwrites it. */
  | 'newer-at-destination'
  /** GCS no longer has this generation: a newer one replaced it (its own event copies it). */
  | 'superseded'
  /** GCS has no such object at all (deleted since the event). */
  | 'source-missing'
  /** Nothing to delete or update at the destination. */
  | 'absent-at-destination';

export type Outcome = (
  | {
      status: 'copied';
      key: string;
      generation: string;
      bytes: number;
      /** Parts an earlier attempt had uploaded that this copy kept (a resumed multipart upload); absent for a single request. */
      resumedParts?: number;
    }
  | { status: 'updated'; key: string; generation: string }
  | { status: 'deleted'; key: string; generation: string }
  | { status: 'skipped'; key: string; reason: SkipReason; generation?: string; destinationGeneration?: string }
  | { status: 'failed'; key: string; retryable: boolean; error: Error; generation?: string }
) & {
  /**
   * Multipart uploads at the key that handling this event aborted: left by
   * killed or failed copies of generations no longer to be copied
   * (docs/resumable-copies.md). Absent: none looked for.
   */
  strandedUploadsAborted?: number;
};

/**
 * Compares two GCS generations (decimal int64 strings): negative, zero or
 * positive. Throws on anything else: check values that do not come from GCS
 * (an S3 object's provenance) with `isGeneration` first.
 */
export function compareGenerations(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True for a decimal int64 generation as GCS writes it (no sign, no leading zeros). */
export function isGeneration(value: string): boolean {
  return /^(0|[1-9][0-9]{0,18})$/.test(value) && BigInt(value) <= 9223372036854775807n;
}
