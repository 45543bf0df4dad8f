import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.js';
import type { WriteSpec } from '../../../src/replicate/ports.js';
import { assertKeyStorable, assertStorableInS3, userMetadataBytes } from '../../../src/sink/s3-limits.js';

const spec = (metadata: Record<string, string>): WriteSpec => ({ size: 1, metadata });

describe('assertStorableInS3', () => {
  it.each([
    ['a key over 1,024 bytes', 'k'.repeat(1025), {}, 'KeyTooLongError', /1025 bytes is over S3's 1024-byte key limit/],
    ['a key of 342 three-byte characters (1,026 bytes)', '€'.repeat(342), {}, 'KeyTooLongError', /1026 bytes/],
    ['user metadata over 2 KB', 'k', { big: 'v'.repeat(2046) }, 'MetadataTooLarge', /2049 bytes with provenance, over S3's 2048-byte user metadata limit/],
    ['a metadata key that is not a header token', 'k', { 'a key': 'v' }, 'MetadataKeyInvalid', /"a key" .* cannot be an S3 metadata header/],
  ])('refuses %s as a permanent error naming the limit', (_, key, metadata, code, message) => {
    let caught: unknown;
    try {
      assertStorableInS3('dest', key, spec(metadata));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PermanentError);
    expect((caught as PermanentError).code).toBe(code);
    expect((caught as Error).message).toMatch(message);
  });

  it('accepts the limits exactly: 1,024-byte key, 2,048 bytes of metadata', () => {
    expect(() => assertStorableInS3('dest', 'k'.repeat(1024), spec({ big: 'v'.repeat(2045) }))).not.toThrow();
    expect(userMetadataBytes({ big: 'v'.repeat(2045) })).toBe(2048);
  });
});

describe('assertKeyStorable', () => {
  it('refuses a key over 1,024 bytes of UTF-8 as a permanent KeyTooLongError, and accepts 1,024', () => {
    expect(() => assertKeyStorable('dest', 'é'.repeat(513))).toThrow(PermanentError);
    expect(() => assertKeyStorable('dest', 'é'.repeat(513))).toThrow(/1026 bytes is over S3's 1024-byte key limit/);
    expect(() => assertKeyStorable('dest', 'é'.repeat(512))).not.toThrow();
  });
});
