import { describe, expect, it } from 'vitest';
import { ARCHIVE_STORAGE_CLASSES, parseRate, parseStorageClass, S3_STORAGE_CLASSES } from '../../../src/config/destination-settings.js';
import { ConfigError } from '../../../src/errors.js';

const KIB = 1024;
const MIB = 1024 * KIB;

describe('parseRate (rclone --bwlimit syntax)', () => {
  it.each([
    ['10M', KIB, 10 * MIB],
    ['10m', KIB, 10 * MIB],
    ['10Mi', KIB, 10 * MIB],
    ['10MiB', KIB, 10 * MIB],
    ['512K', KIB, 512 * KIB],
    ['1G', KIB, 1024 * MIB],
    ['2.5M', KIB, 2.5 * MIB],
    ['100B', KIB, 100],
    // A bare number is KiB/s for --bwlimit, as in rclone; bytes for MAX_BYTES_PER_SECOND.
    ['100', KIB, 100 * KIB],
    ['100', 1, 100],
    ['off', KIB, undefined],
    ['OFF', KIB, undefined],
    ['0', KIB, undefined],
    ['0M', KIB, undefined],
  ])('%s (bare unit %d) → %s bytes/s', (raw, unit, bytes) => {
    expect(parseRate('--bwlimit', raw, unit)).toBe(bytes);
  });

  it.each(['10 M', '10X', 'M', '-1M', '1M:2M', '08:00,512k', '1e6', ''])('refuses %o, naming the option', (raw) => {
    expect(() => parseRate('--bwlimit', raw === '' ? ' ' : raw, KIB)).toThrow(ConfigError);
    expect(() => parseRate('--bwlimit', raw === '' ? ' ' : raw, KIB)).toThrow(/^--bwlimit: /);
  });
});

describe('S3 storage classes', () => {
  it.each(S3_STORAGE_CLASSES.map((c) => [c.toLowerCase(), c]))('%s → %s', (raw, name) => {
    expect(parseStorageClass('S3_STORAGE_CLASS', raw)).toBe(name);
  });

  it('names the archive classes whose bytes need a restore, and only those', () => {
    expect([...ARCHIVE_STORAGE_CLASSES].sort()).toEqual(['DEEP_ARCHIVE', 'GLACIER']);
    // GLACIER_IR is read (and copied) in milliseconds, like STANDARD_IA.
    expect(ARCHIVE_STORAGE_CLASSES).not.toContain('GLACIER_IR');
  });
});
