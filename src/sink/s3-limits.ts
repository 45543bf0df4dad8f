import { PermanentError } from '../errors.js';
import type { WriteSpec } from '../replicate/ports.js';

/** S3's limit on user-defined metadata: keys + values, UTF-8 bytes, without the `x-amz-meta-` prefix. */
export const S3_USER_METADATA_LIMIT_BYTES = 2048;

/** S3's limit on a key: 1,024 bytes of UTF-8. */
export const S3_MAX_KEY_BYTES = 1024;

/** An HTTP header name's characters (RFC 9110 `token`): a metadata key travels as `x-amz-meta-<key>`. */
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Refuses, before any request, what S3 could never store: a key over 1,024
 * bytes, a metadata key that is not a header token, or user metadata over
 * 2 KB. Each is a PermanentError: a retry would fail the same way, and
 * truncating silently would be worse than not copying.
 */
export function assertStorableInS3(bucket: string, key: string, spec: WriteSpec): void {
  assertKeyStorable(bucket, key);
  for (const name of Object.keys(spec.metadata)) {
    if (!HEADER_TOKEN.test(name)) {
      throw new PermanentError(`custom metadata key "${name}" for s3://${bucket}/${key} cannot be an S3 metadata header (only ASCII token characters are allowed)`, { code: 'MetadataKeyInvalid' });
    }
  }
  const size = userMetadataBytes(spec.metadata);
  if (size > S3_USER_METADATA_LIMIT_BYTES) {
    throw new PermanentError(
      `metadata for s3://${bucket}/${key} is ${size} bytes with provenance, over S3's ${S3_USER_METADATA_LIMIT_BYTES}-byte user metadata limit; not copied (nothing is truncated)`,
      { code: 'MetadataTooLarge' },
    );
  }
}

/**
 * Refuses a key over S3's 1,024 bytes before any request: S3 answers a HEAD of
 * such a key with a bare 400 (no code to classify, so it would be retried for
 * ever), and a write with KeyTooLongError.
 */
export function assertKeyStorable(bucket: string, key: string): void {
  const keyBytes = Buffer.byteLength(key);
  if (keyBytes > S3_MAX_KEY_BYTES) {
    throw new PermanentError(`key of ${keyBytes} bytes is over S3's ${S3_MAX_KEY_BYTES}-byte key limit: s3://${bucket}/${key.slice(0, 64)}…`, { code: 'KeyTooLongError' });
  }
}

/** Bytes S3 counts against its limit: UTF-8 of every key and value, without the `x-amz-meta-` prefix. */
export function userMetadataBytes(metadata: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(metadata)) total += Buffer.byteLength(key) + Buffer.byteLength(value);
  return total;
}
