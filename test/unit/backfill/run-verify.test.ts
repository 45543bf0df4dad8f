import { describe, expect, it } from 'vitest';
import { compare, runVerify } from '../../../src/backfill/run-verify.js';
import type { SinkObject, SourceObject, StoredHeaders } from '../../../src/model.js';
import { fakeListers, gcs, s3 } from './listings.js';

const GEN = '1700000000000001';
const head = (extra: Partial<SinkObject> = {}): SinkObject => ({ key: 'k', etag: '"e"', size: 10, generation: GEN, crc32c: 'AAAAAA==', ...extra });

describe('compare (one object listed on both sides, after its HEAD)', () => {
  it.each<[string, SinkObject | undefined, string | undefined, unknown]>([
    ['in sync', head(), undefined, undefined],
    ['deleted since the listing', undefined, 'missingInS3', undefined],
    ['older generation', head({ generation: '1600000000000000' }), 'staleInS3', { s3Generation: '1600000000000000' }],
    ['not written by gcs2s3', head({ generation: undefined }), 'staleInS3', { s3Generation: null }],
    ['unreadable generation', head({ generation: 'v2' }), 'staleInS3', { s3Generation: 'v2' }],
    ['size differs', head({ size: 11 }), 'mismatched', { mismatches: [{ field: 'size', gcs: 10, s3: 11 }] }],
    ['crc32c differs', head({ crc32c: 'BBBBBB==' }), 'mismatched', { mismatches: [{ field: 'crc32c', gcs: 'AAAAAA==', s3: 'BBBBBB==' }] }],
    ['crc32c absent in S3', head({ crc32c: undefined }), 'mismatched', { mismatches: [{ field: 'crc32c', gcs: 'AAAAAA==', s3: null }] }],
    ['newer generation in S3', head({ generation: '1800000000000000' }), 'mismatched', { mismatches: [{ field: 'generation', gcs: GEN, s3: '1800000000000000' }] }],
    ['size and crc32c', head({ size: 1, crc32c: 'CCCCCC==' }), 'mismatched', { mismatches: [{ field: 'size', gcs: 10, s3: 1 }, { field: 'crc32c', gcs: 'AAAAAA==', s3: 'CCCCCC==' }] }],
    // Verify compares the HEAD's provenance, never the bytes: an object S3 cannot read without a restore verifies like any other.
    ['in sync in an archive class (GLACIER)', head({ storageClass: 'GLACIER', archived: true }), undefined, undefined],
    ['stale in an archive class (DEEP_ARCHIVE)', head({ storageClass: 'DEEP_ARCHIVE', archived: true, generation: '1600000000000000' }), 'staleInS3', { s3Generation: '1600000000000000' }],
  ])('%s', (_label, h, kind, fields) => {
    const d = compare('gs://b/a', gcs('a'), 'k', h);
    expect(d?.kind).toBe(kind);
    if (fields !== undefined) expect(d).toMatchObject(fields as object);
  });
});

describe('compare: headers, custom metadata and metageneration (GCS listed with whole resources)', () => {
  const resource: SourceObject = {
    bucket: 'b',
    name: 'a',
    generation: GEN,
    metageneration: '2',
    size: 10,
    crc32c: 'AAAAAA==',
    contentType: 'text/csv',
    cacheControl: 'no-cache',
    metadata: { Owner: 'team' },
  };
  const provenance = { 'gcs-bucket': 'b', 'gcs-generation': GEN, 'gcs-crc32c': 'AAAAAA==' };
  const stored = (extra: Partial<StoredHeaders> = {}, metageneration: string | undefined = '2'): SinkObject =>
    head({ metageneration, headers: { contentType: 'text/csv', cacheControl: 'no-cache', metadata: { owner: 'team', ...provenance, ...(metageneration === undefined ? {} : { 'gcs-metageneration': metageneration }) }, ...extra } });

  it.each<[string, SinkObject, unknown[] | undefined]>([
    ['in sync', stored(), undefined],
    ['a copy made before the metageneration was recorded, same headers', stored({}, undefined), undefined],
    ['older metageneration in S3', stored({}, '1'), [{ field: 'metageneration', gcs: '2', s3: '1' }]],
    ['Content-Type changed in GCS (same metageneration: fake-gcs-server)', stored({ contentType: 'text/plain' }), [{ field: 'contentType', gcs: 'text/csv', s3: 'text/plain' }]],
    ['Cache-Control missing in S3', stored({ cacheControl: undefined }), [{ field: 'cacheControl', gcs: 'no-cache', s3: null }]],
    ['default Content-Type spelled as S3 does (an object sent without one)', head({ metageneration: '2', headers: { contentType: 'binary/octet-stream', cacheControl: 'no-cache', metadata: { owner: 'team' } } }), [{ field: 'contentType', gcs: 'text/csv', s3: 'binary/octet-stream' }]],
    ['Content-Language only in S3', stored({ contentLanguage: 'fr' }), [{ field: 'contentLanguage', gcs: null, s3: 'fr' }]],
    ['custom metadata differs', stored({ metadata: { owner: 'other', ...provenance, 'gcs-metageneration': '2' } }), [{ field: 'metadata', gcs: '{"owner":"team"}', s3: '{"owner":"other"}' }]],
  ])('%s', (_label, h, mismatches) => {
    const d = compare('gs://b/a', gcs('a', { resource }), 'k', h);
    if (mismatches === undefined) expect(d).toBeUndefined();
    else expect(d).toMatchObject({ kind: 'mismatched', mismatches });
  });
});

describe('runVerify', () => {
  it('names each set, HEADs only objects listed on both sides, and counts the rest in sync', async () => {
    const KP = 'kp/';
    const source = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => gcs(n));
    const sink = [s3(`${KP}a`), s3(`${KP}b`), s3(`${KP}c`), s3(`${KP}d`), s3(`${KP}x`), s3(`${KP}y`)];
    const heads: Record<string, SinkObject> = {
      [`${KP}a`]: head({ key: `${KP}a` }),
      [`${KP}b`]: head({ key: `${KP}b`, generation: '1' }),
      [`${KP}c`]: head({ key: `${KP}c`, crc32c: 'ZZZZZZ==' }),
      [`${KP}d`]: head({ key: `${KP}d` }),
    };
    const headed: string[] = [];
    const found: string[] = [];
    const result = await runVerify(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: KP,
        ...fakeListers(source, sink),
        head: async (key) => {
          headed.push(key);
          return heads[key];
        },
        concurrency: 2,
        onDifference: (d) => found.push(`${d.kind} ${'object' in d ? d.object : d.key}`),
      },
      new AbortController().signal,
    );
    expect(headed.sort()).toEqual(['kp/a', 'kp/b', 'kp/c', 'kp/d']);
    expect(result.inSync).toBe(2);
    expect(result.counts).toEqual({ missingInS3: 2, staleInS3: 1, mismatched: 1, extraInS3: 2, errors: 0 });
    expect(result.missingInS3.map((d) => d.object)).toEqual(['gs://b/e', 'gs://b/f']);
    expect(result.staleInS3.map((d) => [d.object, d.s3Generation])).toEqual([['gs://b/b', '1']]);
    expect(result.mismatched.map((d) => [d.object, d.mismatches])).toEqual([['gs://b/c', [{ field: 'crc32c', gcs: 'AAAAAA==', s3: 'ZZZZZZ==' }]]]);
    expect(result.extraInS3.map((d) => d.key)).toEqual(['kp/x', 'kp/y']);
    expect(result.complete).toBe(true);
    expect(found).toHaveLength(6);
  });

  it.each([
    ['uploads in progress', async () => ({ count: 2, oldestInitiated: '2026-01-01T00:00:00.000Z' }), { count: 2, oldestInitiated: '2026-01-01T00:00:00.000Z' }],
    ['a listing that fails', async () => Promise.reject(new Error('S3 ListMultipartUploads failed: AccessDenied')), { error: 'S3 ListMultipartUploads failed: AccessDenied' }],
  ])('reports %s under KEY_PREFIX + PREFIX as information: never a difference', async (_label, uploadsInProgress, expected) => {
    const source = ['p/a'].map((n) => gcs(n));
    const sink = ['kp/p/a'].map((n) => s3(n));
    const listers = fakeListers(source, sink);
    const asked: string[] = [];
    const result = await runVerify(
      {
        bucket: 'b',
        prefix: 'p/',
        keyPrefix: 'kp/',
        ...listers,
        sinkLister: { ...listers.sinkLister, uploadsInProgress: (prefix: string) => (asked.push(prefix), uploadsInProgress()) },
        head: async (key) => head({ key }),
        concurrency: 1,
      },
      new AbortController().signal,
    );
    expect(asked).toEqual(['kp/p/']);
    expect(result.uploadsInProgress).toEqual(expected);
    expect(result.inSync).toBe(1);
    expect(result.complete).toBe(true);
  });

  it('a failed HEAD is an error of that object, not the end of the audit', async () => {
    const source = ['a', 'b', 'c'].map((n) => gcs(n));
    const sink = ['a', 'b', 'c'].map((n) => s3(n));
    const result = await runVerify(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: '',
        ...fakeListers(source, sink),
        head: async (key) => {
          if (key === 'b') throw new Error('S3 HeadObject failed: 500');
          return head({ key });
        },
        concurrency: 3,
      },
      new AbortController().signal,
    );
    expect(result.inSync).toBe(2);
    expect(result.errors).toEqual([{ object: 'gs://b/b', key: 'b', error: 'S3 HeadObject failed: 500' }]);
    expect(result.complete).toBe(false);
  });

  it('caps each listed set but keeps exact counts', async () => {
    const source = Array.from({ length: 30 }, (_, i) => gcs(`m${String(i).padStart(2, '0')}`));
    const result = await runVerify(
      { bucket: 'b', prefix: '', keyPrefix: '', ...fakeListers(source, []), head: async () => undefined, concurrency: 1, maxListed: 10 },
      new AbortController().signal,
    );
    expect(result.counts.missingInS3).toBe(30);
    expect(result.missingInS3).toHaveLength(10);
    expect(result.truncated).toBe(true);
  });
});
