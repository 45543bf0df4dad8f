import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../src/errors.js';
import { crc32cBase64, VerifyingStream } from '../../../src/replicate/verify-stream.js';

const data = Buffer.from('The quick brown fox jumps over the lazy dog');
const good = { label: 'gs://b/o#1', size: data.length, crc32c: crc32cBase64(crc32c(data)), md5Hash: createHash('md5').update(data).digest('base64') };

describe('VerifyingStream', () => {
  it('matches GCS\'s encoding of the CRC32C check value', () => {
    // "123456789" → 0xE3069283 (RFC 3720 check value); GCS base64-encodes the 4 big-endian bytes.
    expect(crc32cBase64(crc32c(Buffer.from('123456789')))).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
  });

  it('passes matching bytes through unchanged', async () => {
    const v = new VerifyingStream(good);
    const out = text(Readable.from([data.subarray(0, 10), data.subarray(10)]).pipe(v));
    expect(await out).toBe(data.toString());
    expect(v.bytes).toBe(data.length);
  });

  it.each([
    ['CRC32C', { ...good, md5Hash: undefined, crc32c: 'AAAAAA==' }, /CRC32C/],
    ['MD5 (no CRC32C recorded)', { ...good, crc32c: undefined, md5Hash: 'AAAAAAAAAAAAAAAAAAAAAA==' }, /MD5/],
    ['size (short)', { ...good, size: data.length + 1 }, /read 43 bytes, GCS recorded 44/],
    ['size (long)', { ...good, size: data.length - 1 }, /read more than/],
  ])('errors instead of ending on a %s mismatch', async (_what, expected, message) => {
    const err = await pipeline(Readable.from([data]), new VerifyingStream(expected), async function* (src) {
      for await (const _chunk of src) yield;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toMatch(message);
  });

  it('with a CRC32C recorded, the CRC32C is the check: no MD5 pass (docs/decisions/md5.md)', async () => {
    const v = new VerifyingStream({ ...good, md5Hash: 'AAAAAAAAAAAAAAAAAAAAAA==' });
    expect(await text(Readable.from([data]).pipe(v))).toBe(data.toString());
  });
});
