import { MIB } from '../units.js';

export { MIB };

/** S3's multipart limits: parts of 5 MiB to 5 GiB, at most 10,000 of them, objects up to 5 TiB. */
export const S3_MIN_PART_BYTES = 5 * MIB;
export const S3_MAX_PART_BYTES = 5 * 1024 * MIB;
export const S3_MAX_PARTS = 10_000;
export const S3_MAX_OBJECT_BYTES = 5 * 1024 * 1024 * MIB;

/**
 * The part size for an object of `size` bytes: the configured size, grown to a
 * whole number of MiB when the object would otherwise need more than 10,000
 * parts. Memory per object is queueSize × the result, so it only grows for
 * objects over configured × 10,000 bytes (156 GiB at the 16 MiB default).
 */
export function choosePartSize(size: number, configuredBytes: number): number {
  const floor = Math.max(configuredBytes, S3_MIN_PART_BYTES);
  const needed = Math.ceil(size / S3_MAX_PARTS / MIB) * MIB;
  return Math.min(Math.max(floor, needed), S3_MAX_PART_BYTES);
}
