import { PermanentError } from '../errors.js';
import type { SourceObject } from '../model.js';
import type { WriteSpec } from './ports.js';

/** S3's limit on user-defined metadata: keys + values, UTF-8 bytes (S3 user guide, "Object metadata"). */
export const S3_USER_METADATA_LIMIT_BYTES = 2048;

/** Provenance keys, always written: they make replication idempotent by generation. */
export const PROVENANCE = {
  bucket: 'gcs-bucket',
  generation: 'gcs-generation',
  crc32c: 'gcs-crc32c',
} as const;

const PROVENANCE_KEYS = new Set<string>(Object.values(PROVENANCE));

/**
 * What lands in S3 for one GCS generation: the five copied headers, custom
 * metadata as user metadata, and provenance. Throws PermanentError when the
 * metadata cannot be represented (over 2 KB, or a key S3 cannot carry):
 * truncating silently would be worse than not copying.
 */
export function buildWriteSpec(object: SourceObject): WriteSpec {
  const metadata: Record<string, string> = {};
  for (const [rawKey, value] of Object.entries(object.metadata)) {
    const key = rawKey.toLowerCase();
    if (PROVENANCE_KEYS.has(key)) continue; // ours wins: provenance must describe the copy
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) {
      throw new PermanentError(`custom metadata key "${rawKey}" of gs://${object.bucket}/${object.name} cannot be an S3 metadata header (only ASCII token characters are allowed)`, { code: 'MetadataKeyInvalid' });
    }
    if (key in metadata) {
      throw new PermanentError(`custom metadata keys of gs://${object.bucket}/${object.name} collide when lower-cased ("${rawKey}"): S3 metadata keys are case-insensitive`, { code: 'MetadataKeyCollision' });
    }
    metadata[key] = value;
  }
  metadata[PROVENANCE.bucket] = object.bucket;
  metadata[PROVENANCE.generation] = object.generation;
  if (object.crc32c !== undefined) metadata[PROVENANCE.crc32c] = object.crc32c;

  const size = userMetadataBytes(metadata);
  if (size > S3_USER_METADATA_LIMIT_BYTES) {
    throw new PermanentError(
      `metadata of gs://${object.bucket}/${object.name} is ${size} bytes with provenance, over S3's ${S3_USER_METADATA_LIMIT_BYTES}-byte user metadata limit; not copied (nothing is truncated)`,
      { code: 'MetadataTooLarge' },
    );
  }
  return {
    size: object.size,
    contentType: object.contentType,
    contentEncoding: object.contentEncoding,
    contentDisposition: object.contentDisposition,
    contentLanguage: object.contentLanguage,
    cacheControl: object.cacheControl,
    metadata,
  };
}

/** Bytes S3 counts against its limit: UTF-8 of every key and value, without the `x-amz-meta-` prefix. */
export function userMetadataBytes(metadata: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) total += Buffer.byteLength(key) + Buffer.byteLength(value);
  return total;
}
