import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { IntegrityError } from '../errors.js';

export interface Expected {
  /** Where the bytes come from, for the error message. */
  label: string;
  size: number;
  /** Base64 big-endian CRC32C, as GCS reports it. */
  crc32c?: string;
  /** Base64 MD5, as GCS reports it (absent for composite objects); checked only when `crc32c` is absent. */
  md5Hash?: string;
}

/**
 * A pass-through that checks the size and the CRC32C of everything that flows
 * through it. The check runs in `flush`, before the stream ends: on mismatch the
 * stream errors instead of ending, so the consumer (the multipart upload) never
 * sees a clean end and never completes: it aborts instead.
 *
 * MD5 is checked only where GCS reports no CRC32C (GCS records a CRC32C for
 * every object; composite objects have no MD5 at all). With a CRC32C, a second
 * pass over the bytes would cost 1.7 s of CPU per GiB (about a sixth of a
 * copy's) and catch nothing more: CRC32C catches every burst error up to 32
 * bits and misses random corruption with probability 2^-32, and S3 checks the
 * same CRC32C again over the whole object before completing it
 * (docs/decisions/md5.md, with the bench's figures).
 */
export class VerifyingStream extends Transform {
  #crc = 0;
  #md5: Hash | undefined;
  #bytes = 0;
  readonly #expected: Expected;
  #open: (() => void) | undefined;

  /**
   * `open`, when given, is called when the consumer first asks for bytes: it
   * starts the source (piping into this stream). A consumer that gives up
   * before reading (a destination refusing the write) then costs no read.
   */
  constructor(expected: Expected, open?: () => void) {
    super();
    this.#expected = expected;
    this.#md5 = expected.md5Hash === undefined || expected.crc32c !== undefined ? undefined : createHash('md5');
    this.#open = open;
  }

  override _read(size: number): void {
    const open = this.#open;
    this.#open = undefined;
    open?.();
    super._read(size);
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#expected.size) {
      callback(new IntegrityError(`${this.#expected.label}: read more than the ${this.#expected.size} bytes GCS recorded`, { code: 'SizeMismatch' }));
      return;
    }
    this.#crc = crc32c(chunk, this.#crc);
    this.#md5?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { label, size, crc32c: crcExpected, md5Hash } = this.#expected;
    if (this.#bytes !== size) {
      callback(new IntegrityError(`${label}: read ${this.#bytes} bytes, GCS recorded ${size}`, { code: 'SizeMismatch' }));
      return;
    }
    if (crcExpected !== undefined) {
      const actual = crc32cBase64(this.#crc);
      if (actual !== crcExpected) {
        callback(new IntegrityError(`${label}: CRC32C of the streamed bytes is ${actual}, GCS recorded ${crcExpected}`, { code: 'Crc32cMismatch' }));
        return;
      }
    }
    if (this.#md5 !== undefined && md5Hash !== undefined) {
      const actual = this.#md5.digest('base64');
      if (actual !== md5Hash) {
        callback(new IntegrityError(`${label}: MD5 of the streamed bytes is ${actual}, GCS recorded ${md5Hash}`, { code: 'Md5Mismatch' }));
        return;
      }
    }
    callback();
  }
}

/** GCS's encoding of a CRC32C: the 4 big-endian bytes, base64. */
export function crc32cBase64(value: number): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(value >>> 0);
  return buf.toString('base64');
}
