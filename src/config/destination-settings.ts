import { ConfigError } from '../errors.js';
import { MIB } from '../units.js';

/**
 * S3's storage classes, as PutObject, CreateMultipartUpload and CopyObject take
 * them (`x-amz-storage-class`; the API reference's StorageClass enum).
 * GLACIER and DEEP_ARCHIVE objects cannot be read without a restore: gcs2s3
 * never reads destination bytes (skips and `verify` use HEAD only).
 */
export const S3_STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
  'OUTPOSTS',
  'SNOW',
  'EXPRESS_ONEZONE',
] as const;
export type S3StorageClass = (typeof S3_STORAGE_CLASSES)[number];

/** Storage classes whose objects must be restored before their bytes can be read (or copied in place). */
export const ARCHIVE_STORAGE_CLASSES: readonly string[] = ['GLACIER', 'DEEP_ARCHIVE'];

/** `x-amz-server-side-encryption` values gcs2s3 sets: SSE-S3 and SSE-KMS. */
export const S3_SSE_MODES = ['AES256', 'aws:kms'] as const;
export type S3SseMode = (typeof S3_SSE_MODES)[number];

/** Written objects' storage class and encryption; absent fields leave the bucket's defaults. */
export interface DestinationSettings {
  /** S3_STORAGE_CLASS; unset: S3's default (STANDARD). */
  storageClass?: S3StorageClass;
  /** S3_SSE; unset: the bucket's default encryption. */
  sse?: S3SseMode;
  /** S3_SSE_KMS_KEY_ID (only with `aws:kms`); unset: the bucket's default KMS key, else `aws/s3`. */
  kmsKeyId?: string;
  /** S3_SSE_BUCKET_KEY (only with `aws:kms`); unset: the bucket's setting. */
  bucketKey?: boolean;
}

export function parseStorageClass(name: string, raw: string | undefined): S3StorageClass | undefined {
  if (raw === undefined) return undefined;
  const upper = raw.toUpperCase();
  const found = S3_STORAGE_CLASSES.find((c) => c === upper);
  if (found === undefined) throw new ConfigError(name, `must be one of ${S3_STORAGE_CLASSES.join(', ')}, got "${raw}"`);
  return found;
}

export function parseSse(name: string, raw: string | undefined): S3SseMode | undefined {
  if (raw === undefined) return undefined;
  const found = S3_SSE_MODES.find((m) => m.toLowerCase() === raw.toLowerCase());
  if (found === undefined) throw new ConfigError(name, `must be AES256 or aws:kms, got "${raw}"`);
  return found;
}

/** A KMS key id, key ARN, alias name or alias ARN (S3 accepts each); only meaningful with SSE-KMS. */
export function parseKmsKeyId(name: string, raw: string | undefined, sse: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (sse?.toLowerCase() !== 'aws:kms') throw new ConfigError(name, `needs S3_SSE=aws:kms (S3_SSE is ${sse === undefined ? 'unset' : `"${sse}"`})`);
  if (!/^[\w:/+=,.@-]{1,2048}$/.test(raw)) throw new ConfigError(name, `must be a KMS key id, key ARN or alias, got "${raw}"`);
  return raw;
}

/** Whether SSE-KMS uses an S3 Bucket Key; only meaningful with SSE-KMS. */
export function parseBucketKey(name: string, raw: string | undefined, sse: string | undefined, parseBool: (raw: string) => boolean): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = parseBool(raw);
  if (sse?.toLowerCase() !== 'aws:kms') throw new ConfigError(name, `needs S3_SSE=aws:kms (S3 Bucket Keys are for SSE-KMS; S3_SSE is ${sse === undefined ? 'unset' : `"${sse}"`})`);
  return value;
}

const RATE_SUFFIXES: Record<string, number> = { B: 1, K: 1024, M: MIB, G: 1024 * MIB, T: 1024 * 1024 * MIB, P: 1024 * 1024 * 1024 * MIB };

/**
 * A rate in rclone's `--bwlimit` syntax: a number with an optional suffix
 * B, K, M, G, T or P (binary multiples, any case, optionally followed by `i`,
 * `iB` or `B`: `10M`, `1.5MiB`), `off` or 0 for no limit. A number without a
 * suffix counts `unit` bytes: KiB for `--bwlimit`, as rclone does; bytes for
 * MAX_BYTES_PER_SECOND. rclone's timetables and UP:DOWN pairs are refused.
 * Returns bytes per second, or undefined for no limit.
 */
export function parseRate(name: string, raw: string | undefined, unit: number): number | undefined {
  if (raw === undefined || raw.toLowerCase() === 'off') return undefined;
  const match = /^(\d+(?:\.\d+)?)(?:([bkmgtp])(?:i?b?)?)?$/i.exec(raw.trim());
  if (match === null) throw new ConfigError(name, `must be a rate like 10M (MiB/s), 512K (KiB/s) or off, got "${raw}"`);
  const multiplier = match[2] === undefined ? unit : RATE_SUFFIXES[match[2].toUpperCase()]!;
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (bytes === 0) {
    if (Number(match[1]) === 0) return undefined;
    throw new ConfigError(name, `is under 1 byte per second: "${raw}"`);
  }
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(name, `is too large: "${raw}"`);
  return bytes;
}
