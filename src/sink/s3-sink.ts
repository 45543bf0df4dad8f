import {
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PermanentError, ReplicationError } from '../errors.js';
import { classifyS3Error, s3StatusOf } from './s3-errors.js';
import { assertKeyStorable, assertStorableInS3 } from './s3-limits.js';
import { ARCHIVE_STORAGE_CLASSES, type DestinationSettings } from '../config/destination-settings.js';
import type { SinkObject } from '../model.js';
import type { OpenBody, PendingUpload, Sink, WriteCondition, WriteReport, WriteSpec } from '../replicate/ports.js';
import { PROVENANCE } from '../replicate/write-spec.js';
import { MIB, S3_MAX_OBJECT_BYTES } from './part-size.js';
import { decodeMetadataValue, encodeMetadataValue } from './metadata-encoding.js';
import { PartBufferPool, type PartBufferStats } from './part-buffer-pool.js';
import { abortUpload, listUploadsAt } from './resumable-upload.js';
import { StreamUpload, type ObjectHeaders } from './stream-upload.js';

export interface S3SinkOptions {
  client: S3Client;
  bucket: string;
  /** Configured part size in bytes (PART_SIZE_MIB; default 16 MiB); grown per object to stay within 9,999 data parts. */
  partSizeBytes: number;
  /** Parts uploading at once per object (PART_QUEUE_SIZE; default 4); the next part is read when one of them is done. */
  partQueueSize: number;
  /** Objects written at once (MAX_CONCURRENT_OBJECTS; default 8); × partQueueSize, the part buffers the process ever holds. */
  maxConcurrentObjects: number;
  /**
   * Storage class and encryption of every write: PutObject, CreateMultipartUpload
   * and the in-place CopyObject alike (a copy that does not name them gets
   * STANDARD and the bucket's default encryption). Default: none set.
   */
  settings?: DestinationSettings;
}

/**
 * Multipart uploads of at least this many parts keep their parts after a
 * transient failure or a deadline, for the next attempt to resume
 * (docs/resumable-copies.md). Smaller ones are cheap to redo, and leave
 * nothing behind instead.
 */
const RESUMABLE_MIN_PARTS = 8;

/** CopyObject's limit (5 GiB); larger objects need a multipart copy. */
const COPY_OBJECT_MAX_BYTES = 5 * 1024 * MIB;

/** S3 adapter for the Sink port. Every error leaving it is classified. */
export class S3Sink implements Sink {
  readonly #options: S3SinkOptions;
  readonly #pool: PartBufferPool;

  constructor(options: S3SinkOptions) {
    this.#options = options;
    this.#pool = new PartBufferPool({ bufferBytes: options.partSizeBytes, buffers: options.maxConcurrentObjects * options.partQueueSize });
  }

  /** Part buffers: in use now, the most ever in use, and allocated. */
  get partBuffers(): PartBufferStats {
    return this.#pool.stats;
  }

  async head(key: string, signal: AbortSignal): Promise<SinkObject | undefined> {
    const { client, bucket } = this.#options;
    assertKeyStorable(bucket, key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }), { abortSignal: signal });
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(out.Metadata ?? {})) metadata[k.toLowerCase()] = decodeMetadataValue(v);
      return {
        key,
        etag: out.ETag ?? '',
        size: out.ContentLength ?? 0,
        generation: metadata[PROVENANCE.generation],
        crc32c: metadata[PROVENANCE.crc32c],
        sourceBucket: metadata[PROVENANCE.bucket],
        storedCrc32c: out.ChecksumCRC32C,
        // HEAD names the class only when it is not STANDARD.
        storageClass: out.StorageClass ?? 'STANDARD',
        // GLACIER and DEEP_ARCHIVE, or INTELLIGENT_TIERING's opt-in archive tiers (ArchiveStatus): restore first, even to copy in place.
        archived: ARCHIVE_STORAGE_CLASSES.includes(out.StorageClass ?? 'STANDARD') || out.ArchiveStatus !== undefined,
        metageneration: metadata[PROVENANCE.metageneration],
        headers: {
          contentType: optional(out.ContentType, decodeMetadataValue),
          contentEncoding: optional(out.ContentEncoding, decodeMetadataValue),
          contentDisposition: optional(out.ContentDisposition, decodeMetadataValue),
          contentLanguage: optional(out.ContentLanguage, decodeMetadataValue),
          cacheControl: optional(out.CacheControl, decodeMetadataValue),
          metadata,
        },
      };
    } catch (err) {
      if (s3StatusOf(err) === 404) return undefined;
      throw classifyS3Error(err, `S3 HeadObject s3://${bucket}/${key}`);
    }
  }

  async write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition, signal: AbortSignal): Promise<WriteReport | undefined> {
    const { client, bucket, partQueueSize } = this.#options;
    assertStorableInS3(bucket, key, spec);
    if (spec.size > S3_MAX_OBJECT_BYTES) {
      throw new PermanentError(`object of ${spec.size} bytes is over S3's 5 TiB object limit: s3://${bucket}/${key}`, { code: 'EntityTooLarge' });
    }
    try {
      const upload = new StreamUpload({
        client,
        bucket,
        key,
        openBody: body,
        size: spec.size,
        pool: this.#pool,
        queueSize: partQueueSize,
        headers: headerParams(spec, this.#options.settings),
        condition,
        crc32c: spec.metadata[PROVENANCE.crc32c],
        resumable: spec.size >= RESUMABLE_MIN_PARTS * this.#pool.partsFor(spec.size).partBytes,
      });
      await upload.done(signal);
      // A single PutObject looks for no upload at the key: nothing to report.
      return upload.multipart ? { resumedParts: upload.resumedParts, strandedUploadsAborted: upload.staleUploadsAborted } : undefined;
    } catch (err) {
      if (err instanceof ReplicationError) throw err; // from the body stream: already classified
      throw classifyS3Error(err, `S3 upload s3://${bucket}/${key}`);
    }
  }

  /** A PutObject (stream-upload.ts) carries every object that fits one part; larger ones are multipart. */
  isMultipart(size: number): boolean {
    return size > this.#pool.partsFor(size).partBytes;
  }

  async listUploads(key: string, signal: AbortSignal): Promise<PendingUpload[]> {
    const { client, bucket } = this.#options;
    assertKeyStorable(bucket, key);
    try {
      return await listUploadsAt({ client, bucket, key, signal });
    } catch (err) {
      throw classifyS3Error(err, `S3 ListMultipartUploads s3://${bucket}/${key}`);
    }
  }

  async abortUploads(key: string, uploadIds: readonly string[], signal: AbortSignal): Promise<number> {
    const { client, bucket } = this.#options;
    let aborted = 0;
    for (const uploadId of uploadIds) {
      try {
        if (await abortUpload({ client, bucket, key, signal }, uploadId)) aborted++;
      } catch (err) {
        throw classifyS3Error(err, `S3 AbortMultipartUpload s3://${bucket}/${key}`);
      }
    }
    return aborted;
  }

  async updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    const { client, bucket } = this.#options;
    assertStorableInS3(bucket, key, spec);
    if (spec.size > COPY_OBJECT_MAX_BYTES) {
      throw new PermanentError(`metadata update of s3://${bucket}/${key} needs CopyObject, which stops at 5 GiB (object is ${spec.size} bytes)`, { code: 'EntityTooLarge' });
    }
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: key,
          CopySource: `${bucket}/${encodeKey(key)}`,
          // The bytes read are the object decided on (source), and so is the
          // object replaced (destination: the copy reads and writes at
          // different moments; S3 checks this If-Match when it writes). MinIO
          // ignores the destination's conditions (measured), and an ETag cannot
          // tell apart two generations with the same bytes: the core checks
          // GCS afterwards (replicate-object.ts, `settleUpdate`).
          CopySourceIfMatch: condition.ifMatch,
          IfMatch: condition.ifMatch,
          MetadataDirective: 'REPLACE',
          ...headerParams(spec, this.#options.settings),
          ChecksumAlgorithm: 'CRC32C',
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw classifyS3Error(err, `S3 CopyObject (metadata update) s3://${bucket}/${key}`);
    }
  }

  async remove(key: string, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    const { client, bucket } = this.#options;
    assertKeyStorable(bucket, key);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: condition.ifMatch }), { abortSignal: signal });
    } catch (err) {
      if (s3StatusOf(err) === 404) return;
      throw classifyS3Error(err, `S3 DeleteObject s3://${bucket}/${key}`);
    }
  }
}

/**
 * Every header value travels as printable ASCII: Node refuses to send control
 * characters and anything above U+00FF (ERR_INVALID_CHAR), and sends U+0080 to
 * U+00FF as single bytes that MinIO stores re-encoded (measured: "café"
 * comes back as "cafÃ©"). Such values go RFC 2047-encoded, as user metadata
 * does: refusing instead would leave the object's bytes uncopied over one
 * header value, and the encoded value still says what GCS holds.
 */
function headerParams(spec: WriteSpec, settings: DestinationSettings = {}): ObjectHeaders {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.metadata)) metadata[k] = encodeMetadataValue(v);
  return {
    StorageClass: settings.storageClass,
    ServerSideEncryption: settings.sse,
    SSEKMSKeyId: settings.kmsKeyId,
    BucketKeyEnabled: settings.bucketKey,
    ContentType: optional(spec.contentType, encodeMetadataValue),
    ContentEncoding: optional(spec.contentEncoding, encodeMetadataValue),
    ContentDisposition: optional(spec.contentDisposition, encodeMetadataValue),
    ContentLanguage: optional(spec.contentLanguage, encodeMetadataValue),
    CacheControl: optional(spec.cacheControl, encodeMetadataValue),
    Metadata: metadata,
  };
}

/** CopySource is `bucket/key` with the key URL-encoded, slashes kept. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function optional<T>(value: string | undefined, map: (v: string) => T): T | undefined {
  return value === undefined ? undefined : map(value);
}
