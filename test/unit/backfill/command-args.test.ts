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
