import { describe, expect, it } from 'vitest';
import { runBackfill } from '../../../src/backfill/run-backfill.js';
import { runVerify } from '../../../src/backfill/run-verify.js';
import { createListingCounts, walkListings } from '../../../src/backfill/walk.js';
import { excludedNames } from '../../../src/main/filters.js';
import type { SinkObject } from '../../../src/model.js';
import { fakeListers, gcs, s3 } from './listings.js';

const KP = 'kp/';
const policy = { sourceBuckets: [], includePrefixes: [], excludePrefixes: ['p/tmp/', 'p/cache'], replicateDeletes: false };
const isExcluded = excludedNames('b', policy);

/** 10 kept names, 6 excluded ones; S3 holds 2 kept, 3 excluded, and 1 extra name of each kind. */
function dataset() {
  const kept = Array.from({ length: 10 }, (_, i) => `p/keep-${i}`);
  const excluded = ['p/tmp/a', 'p/tmp/b', 'p/tmp/c', 'p/cache-1', 'p/cache-2', 'p/cache/x'];
  const source = [...kept, ...excluded].map((n) => gcs(n));
  const sink = [s3(`${KP}p/keep-0`), s3(`${KP}p/keep-1`), s3(`${KP}p/tmp/a`), s3(`${KP}p/tmp/b`), s3(`${KP}p/cache-1`), s3(`${KP}p/keep-extra`), s3(`${KP}p/tmp/extra`)];
  return { kept, excluded, ...fakeListers(source, sink) };
}

describe('walkListings with filters', () => {
  it('visits only names the filters keep, on both sides, and counts the excluded GCS objects', async () => {
    const { kept, sourceLister, sinkLister } = dataset();
    const visited: string[] = [];
    const counts = createListingCounts();
    const result = await walkListings(
      { bucket: 'b', prefix: 'p/', keyPrefix: KP, sourceLister, sinkLister, concurrency: 2, isExcluded, counts },
      (entry) => {
        visited.push(entry.name);
        return undefined;
      },
      new AbortController().signal,
    );
    expect(result).toEqual({ listingDone: true, interrupted: false, error: undefined });
    expect(visited).toEqual([...kept.slice(0, 10), 'p/keep-extra'].sort());
    expect(counts).toEqual({ listedGcs: 16, listedS3: 7, otherShards: 0, excluded: 6 });
  });

  it('a task that rejects despite the contract ends the walk with its error, after the others finish', async () => {
    const { sourceLister, sinkLister } = dataset();
    let finished = 0;
    const result = await walkListings(
      { bucket: 'b', prefix: 'p/', keyPrefix: KP, sourceLister, sinkLister, concurrency: 3, counts: createListingCounts() },
      (entry) => async () => {
        if (entry.name === 'p/keep-3') throw new Error('broken task');
        await new Promise((r) => setTimeout(r, 2));
        finished++;
      },
      new AbortController().signal,
    );
    expect(result.error?.message).toBe('broken task');
    expect(finished).toBeGreaterThan(10);
  });
});

describe('walkListings over a task\'s ranges', () => {
  const visit = async (ranges: Array<{ start?: string; end?: string }>) => {
    const { sourceLister, sinkLister, reads } = dataset();
    const visited: string[] = [];
    const counts = createListingCounts();
    const result = await walkListings(
      { bucket: 'b', prefix: 'p/', keyPrefix: KP, sourceLister, sinkLister, concurrency: 2, shard: { index: 0, count: 2, ranges }, counts },
      (entry) => {
        visited.push(entry.name);
        return undefined;
      },
      new AbortController().signal,
    );
    return { result, visited, counts, reads };
  };

  it('lists the ranges in turn, on both sides, and nothing between them', async () => {
    const { result, visited, counts, reads } = await visit([{ end: 'p/keep-2' }, { start: 'p/keep-5', end: 'p/keep-7' }, { start: 'p/tmp/b' }]);
    expect(result.listingDone).toBe(true);
    expect(visited).toEqual(['p/cache-1', 'p/cache-2', 'p/cache/x', 'p/keep-0', 'p/keep-1', 'p/keep-5', 'p/keep-6', 'p/tmp/b', 'p/tmp/c', 'p/tmp/extra']);
    expect(counts).toMatchObject({ listedGcs: 9, listedS3: 5, otherShards: 0 });
    expect(reads).toEqual({ source: 9, sink: 5 });
  });

  it('a task whose pieces are all empty lists nothing', async () => {
    const { result, visited, reads } = await visit([]);
    expect(result.listingDone).toBe(true);
    expect(visited).toEqual([]);
    expect(reads).toEqual({ source: 0, sink: 0 });
  });
});

describe('backfill and verify leave excluded names alone', () => {
  it('backfill copies none of them and counts none as extra', async () => {
    const { sourceLister, sinkLister } = dataset();
    const copied: string[] = [];
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: 'p/',
        keyPrefix: KP,
        sourceLister,
        sinkLister,
        isExcluded,
        concurrency: 2,
        copy: async (event) => {
          copied.push(event.ref.name);
          return { status: 'copied', key: KP + event.ref.name, generation: event.ref.generation!, bytes: 10 };
        },
      },
      new AbortController().signal,
    );
    expect(copied.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `p/keep-${i + 2}`));
    expect(result.tally).toMatchObject({ excluded: 6, extraInS3: 1, current: 2, copied: { objects: 8 } });
  });

  it('verify reports none of them missing or extra', async () => {
    const { sourceLister, sinkLister } = dataset();
    const head = async (key: string): Promise<SinkObject> => ({ key, etag: '"e"', size: 10, generation: '1700000000000001', crc32c: 'AAAAAA==' });
    const result = await runVerify({ bucket: 'b', prefix: 'p/', keyPrefix: KP, sourceLister, sinkLister, isExcluded, head, concurrency: 2 }, new AbortController().signal);
    expect(result.missingInS3.map((d) => d.object)).toEqual(Array.from({ length: 8 }, (_, i) => `gs://b/p/keep-${i + 2}`));
    expect(result.extraInS3.map((d) => d.key)).toEqual([`${KP}p/keep-extra`]);
    expect(result.inSync).toBe(2);
    expect(result.listed).toEqual({ listedGcs: 16, listedS3: 7, otherShards: 0, excluded: 6 });
  });
});
