import { describe, expect, it } from 'vitest';
import { choosePartSize, S3_MAX_PARTS } from '../../../src/sink/part-size.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('choosePartSize', () => {
  it.each([
    [0, 16 * MiB, 16 * MiB],
    [100 * MiB, 16 * MiB, 16 * MiB],
    [16 * MiB * S3_MAX_PARTS, 16 * MiB, 16 * MiB],
    [16 * MiB * S3_MAX_PARTS + 1, 16 * MiB, 17 * MiB],
    [1024 * GiB, 16 * MiB, 105 * MiB],
    [5 * 1024 * GiB, 16 * MiB, 525 * MiB],
    [10 * MiB, 1 * MiB, 5 * MiB],
  ])('an object of %d bytes with %d configured → %d', (size, configured, expected) => {
    const part = choosePartSize(size, configured);
    expect(part).toBe(expected);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(S3_MAX_PARTS);
  });
});
