import { PermanentError } from '../errors.js';
import type { ObjectRef, SinkObject } from '../model.js';

/**
 * The one mapping from GCS objects to destination keys, used by every command
 * (copy, pull, serve, backfill, verify, demo): `S3_KEY_PREFIX` with each
 * `{bucket}` replaced by the object's bucket, then the object name. The name
 * always comes last, so a GCS prefix maps to one destination prefix (backfill
 * and verify list it) and keys sort as names do.
 */

/** Stands for the source bucket in S3_KEY_PREFIX. */
export const BUCKET_PLACEHOLDER = '{bucket}';

/** The destination key prefix of every object of `bucket`. */
export function keyPrefixFor(keyPrefix: string, bucket: string): string {
  return keyPrefix.replaceAll(BUCKET_PLACEHOLDER, bucket);
}

/** The destination key of one GCS object. */
export function destinationKey(keyPrefix: string, ref: Pick<ObjectRef, 'bucket' | 'name'>): string {
  return keyPrefixFor(keyPrefix, ref.bucket) + ref.name;
}

/** Whether objects of two buckets can never share a key under this prefix. */
export function keysIncludeBucket(keyPrefix: string): boolean {
  return keyPrefix.includes(BUCKET_PLACEHOLDER);
}

/**
 * Refuses to replace, update or delete a destination object whose provenance
 * names another source bucket: its key is another bucket's object of the same
 * name (S3_KEY_PREFIX without `{bucket}` and several buckets reaching the
 * worker). Generations of two buckets say nothing about each other, so no
 * order between them is safe; the first bucket's copy stays, and each refusal
 * is a permanent error naming both objects. A destination object without
 * `gcs-bucket` was not written by gcs2s3 and stays the worker's to replace.
 */
export function assertSameBucket(ref: Pick<ObjectRef, 'bucket' | 'name'>, key: string, existing: SinkObject | undefined, action: 'overwrite' | 'update' | 'delete'): void {
  const held = existing?.sourceBucket;
  if (held === undefined || held === ref.bucket) return;
  throw new PermanentError(
    `destination key "${key}" holds gs://${held}/${ref.name} (x-amz-meta-gcs-bucket "${held}"): refusing to ${action} it for gs://${ref.bucket}/${ref.name}; two source buckets map to this key: put ${BUCKET_PLACEHOLDER} in S3_KEY_PREFIX or list one bucket in SOURCE_BUCKETS`,
    { code: 'ForeignBucket' },
  );
}
