import { describe, expect, it } from 'vitest';
import { choosePartSize, MIB, S3_MAX_PARTS } from '../../../src/sink/part-size.js';

const GiB = 1024 * MIB;

describe('choosePartSize', () => {
  it.each([
    [0, 16 * MIB, 16 * MIB],
    [100 * MIB, 16 * MIB, 16 * MIB],
    [16 * MIB * S3_MAX_PARTS, 16 * MIB, 16 * MIB],
    [16 * MIB * S3_MAX_PARTS + 1, 16 * MIB, 17 * MIB],
    [1024 * GiB, 16 * MIB, 105 * MIB],
    [5 * 1024 * GiB, 16 * MIB, 525 * MIB],
    [10 * MIB, 1 * MIB, 5 * MIB],
  ])('an object of %d bytes with %d configured → %d', (size, configured, expected) => {
    const part = choosePartSize(size, configured);
    expect(part).toBe(expected);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(S3_MAX_PARTS);
  });
});
