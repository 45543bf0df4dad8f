import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parsePrefixCommandArgs, type PrefixCommandArgs } from '../../../src/main/prefix-command.js';

describe('backfill / verify arguments', () => {
  it.each<[string[], boolean, Partial<PrefixCommandArgs>]>([
    [['gs://bucket'], true, { bucket: 'bucket', prefix: '', dryRun: false, concurrency: undefined, reportFile: undefined }],
    [['gs://bucket/'], true, { bucket: 'bucket', prefix: '' }],
    [['gs://bucket/logs/2024/'], true, { bucket: 'bucket', prefix: 'logs/2024/' }],
    [['gs://bucket/logs', '--dry-run'], true, { prefix: 'logs', dryRun: true }],
    [['--concurrency', '32', 'gs://b-1/p'], true, { bucket: 'b-1', concurrency: 32 }],
    [['gs://bucket', '--concurrency=1', '--report', 'out.json'], true, { concurrency: 1, reportFile: 'out.json' }],
    [['gs://bucket', '--report=r.json'], false, { reportFile: 'r.json', dryRun: false }],
    [['gs://bucket'], false, { include: undefined, exclude: undefined }],
    [['gs://bucket', '--include', 'logs/', '--include=img/,doc/'], true, { include: ['logs/', 'img/,doc/'], exclude: undefined }],
    [['--exclude', 'tmp/', 'gs://bucket', '--exclude='], false, { exclude: ['tmp/', ''] }],
  ])('%j (dry-run allowed: %s) → %j', (args, dryRun, expected) => {
    expect(parsePrefixCommandArgs(args, { dryRun })).toMatchObject(expected);
  });

  it.each<[string[], PrefixCommandArgs['bwlimit']]>([
    [['gs://bucket'], undefined],
    [['gs://bucket', '--bwlimit', '10M'], { bytesPerSecond: 10 * 1024 * 1024 }],
    [['gs://bucket', '--bwlimit=512k'], { bytesPerSecond: 512 * 1024 }],
    // A bare number is KiB/s, as in rclone.
    [['gs://bucket', '--bwlimit', '100'], { bytesPerSecond: 100 * 1024 }],
    // `off` overrides MAX_BYTES_PER_SECOND with no limit.
    [['gs://bucket', '--bwlimit', 'off'], { bytesPerSecond: undefined }],
  ])('backfill %j → bwlimit %j', (args, bwlimit) => {
    expect(parsePrefixCommandArgs(args, { dryRun: true, bwlimit: true }).bwlimit).toEqual(bwlimit);
  });

  it.each([['gs://bucket', '--bwlimit', '10MB/s'], ['gs://bucket', '--bwlimit', '08:00,512k'], ['gs://bucket', '--bwlimit'], ['gs://bucket', '--bwlimit=']])('backfill %j → ConfigError naming --bwlimit', (...args) => {
    expect(() => parsePrefixCommandArgs(args, { dryRun: true, bwlimit: true })).toThrow(/^--bwlimit/);
  });

  it('verify has no --bwlimit (it reads no object bytes)', () => {
    expect(() => parsePrefixCommandArgs(['gs://bucket', '--bwlimit', '1M'], { dryRun: false })).toThrow(ConfigError);
  });

  it.each<[string[], boolean, string]>([
    [[], true, 'arguments'],
    [['gs://a', 'gs://b'], true, 'arguments'],
    [['s3://bucket/x'], true, 'gs:// URL'],
    [['gs://B/x'], true, 'gs:// URL'],
    [['gs://bucket', '--concurrency', '0'], true, '--concurrency'],
    [['gs://bucket', '--concurrency', '1001'], true, '--concurrency'],
    [['gs://bucket', '--concurrency', 'many'], true, '--concurrency'],
    [['gs://bucket', '--concurrency'], true, '--concurrency'],
    [['gs://bucket', '--report'], true, '--report'],
    [['gs://bucket', '--report', ' '], true, '--report'],
    [['gs://bucket', '--dry-run=yes'], true, '--dry-run'],
    [['gs://bucket', '--dry-run'], false, '--dry-run'],
    [['gs://bucket', '--force'], true, '--force'],
    [['gs://bucket', '--include'], true, '--include'],
  ])('%j (dry-run allowed: %s) → ConfigError naming %s', (args, dryRun, setting) => {
    let error: unknown;
    try {
      parsePrefixCommandArgs(args, { dryRun });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
  });
});
