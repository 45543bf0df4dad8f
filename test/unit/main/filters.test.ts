import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import type { EventPolicy } from '../../../src/events/types.js';
import { excludedNames, objectExclusion, policyWithFlags, prefixExclusion, type FilterFlags } from '../../../src/main/filters.js';

const base = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'dest' };
const policy = (p: Partial<EventPolicy>): EventPolicy => ({ sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false, ...p });

describe('--include / --exclude over INCLUDE_PREFIXES / EXCLUDE_PREFIXES', () => {
  it.each<[Record<string, string>, FilterFlags, Pick<EventPolicy, 'includePrefixes' | 'excludePrefixes'>]>([
    [{}, {}, { includePrefixes: [], excludePrefixes: [] }],
    [{ INCLUDE_PREFIXES: 'a/', EXCLUDE_PREFIXES: 'a/tmp/' }, {}, { includePrefixes: ['a/'], excludePrefixes: ['a/tmp/'] }],
    [{ INCLUDE_PREFIXES: 'a/' }, { include: ['b/'] }, { includePrefixes: ['b/'], excludePrefixes: [] }],
    [{ EXCLUDE_PREFIXES: 'x/' }, { exclude: ['y/', 'z/,w/'] }, { includePrefixes: [], excludePrefixes: ['y/', 'z/', 'w/'] }],
    [{ EXCLUDE_PREFIXES: 'x/' }, { exclude: [''] }, { includePrefixes: [], excludePrefixes: [] }],
  ])('env %o, flags %o → %o', (env, flags, expected) => {
    expect(policyWithFlags(parseConfig({ ...base, ...env }, { command: 'backfill', instanceId: 'h' }), flags)).toMatchObject(expected);
  });
});

describe('prefixExclusion: when no name under a prefix can pass', () => {
  it.each<[string, string, Partial<EventPolicy>, RegExp | undefined]>([
    ['src', '', {}, undefined],
    ['src', 'logs/', { sourceBuckets: ['src', 'other'] }, undefined],
    ['nope', 'logs/', { sourceBuckets: ['src'] }, /bucket "nope" is not in SOURCE_BUCKETS \(src\)/],
    ['src', 'tmp/2024/', { excludePrefixes: ['tmp/'] }, /every name under "tmp\/2024\/" matches the excluded prefix "tmp\/"/],
    ['src', 'tmp', { excludePrefixes: ['tmp/'] }, undefined], // "tmpfile" is not excluded
    ['src', '', { excludePrefixes: ['tmp/'] }, undefined],
    ['src', 'data/', { includePrefixes: ['logs/'] }, /no name under "data\/" can match the included prefixes \(logs\/\)/],
    ['src', 'logs/2024/', { includePrefixes: ['logs/'] }, undefined],
    ['src', 'lo', { includePrefixes: ['logs/'] }, undefined],
    ['src', '', { includePrefixes: ['logs/'] }, undefined],
  ])('gs://%s/%s with %o', (bucket, prefix, p, expected) => {
    const reason = prefixExclusion(bucket, prefix, policy(p));
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});

describe('one object and the names of a walk follow the events\' filter', () => {
  const p = policy({ sourceBuckets: ['src'], includePrefixes: ['logs/', 'img/'], excludePrefixes: ['logs/tmp/'] });
  it.each<[string, string, boolean]>([
    ['src', 'logs/a', false],
    ['src', 'img/b', false],
    ['src', 'logs/tmp/c', true],
    ['src', 'doc/d', true],
    ['other', 'logs/a', true],
  ])('gs://%s/%s excluded: %s', (bucket, name, excluded) => {
    expect(objectExclusion(bucket, name, p) !== undefined).toBe(excluded);
    // The walk has already checked the bucket: only the name decides.
    if (bucket === 'src') expect(excludedNames(bucket, p)(name)).toBe(excluded);
  });
});
