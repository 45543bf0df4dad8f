import { describe, expect, it } from 'vitest';
import { ListingOrderError, mergeListings, type MergedEntry } from '../../../src/backfill/merge.js';
import { decide } from '../../../src/backfill/plan.js';
import type { ListedSinkObject, ListedSourceObject } from '../../../src/backfill/ports.js';
import { gcs, iterate, s3 } from './listings.js';

const KP = 'mirror/';

async function planOf(source: ListedSourceObject[], sink: ListedSinkObject[], keyPrefix = KP): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const entry of mergeListings(iterate(source), iterate(sink), keyPrefix)) {
    const d = decide(entry);
    out.push([d.name, d.action === 'extra' ? 'extra' : d.reason]);
  }
  return out;
}

describe('decide', () => {
  const created = '2024-03-01T12:00:00.500Z';
  it.each<[string, MergedEntry, string, string]>([
    ['missing in S3', { name: 'a', source: gcs('a') }, 'copy', 'missing'],
    ['only in S3', { name: 'a', sink: s3(`${KP}a`) }, 'extra', ''],
    ['size differs', { name: 'a', source: gcs('a', { size: 11 }), sink: s3(`${KP}a`, { size: 10 }) }, 'copy', 'stale-size'],
    ['S3 written before the generation was created', { name: 'a', source: gcs('a', { timeCreated: created }), sink: s3(`${KP}a`, { lastModified: new Date('2024-03-01T12:00:00.499Z') }) }, 'copy', 'stale-time'],
    ['S3 written at the creation instant', { name: 'a', source: gcs('a', { timeCreated: created }), sink: s3(`${KP}a`, { lastModified: new Date(created) }) }, 'skip', 'current'],
    ['S3 written after the generation was created', { name: 'a', source: gcs('a', { timeCreated: created }), sink: s3(`${KP}a`, { lastModified: new Date('2024-03-01T12:00:01Z') }) }, 'skip', 'current'],
    // fake-gcs-server reports microseconds; Date.parse keeps the milliseconds.
    ['microsecond timeCreated', { name: 'a', source: gcs('a', { timeCreated: '2024-03-01T12:00:00.500123Z' }), sink: s3(`${KP}a`, { lastModified: new Date('2024-03-01T12:00:00.499Z') }) }, 'copy', 'stale-time'],
    ['no timeCreated: only a HEAD can tell', { name: 'a', source: gcs('a', { timeCreated: undefined }), sink: s3(`${KP}a`) }, 'copy', 'stale-time'],
    ['unparseable timeCreated', { name: 'a', source: gcs('a', { timeCreated: 'yesterday' }), sink: s3(`${KP}a`) }, 'copy', 'stale-time'],
    ['empty object, current', { name: 'a', source: gcs('a', { size: 0 }), sink: s3(`${KP}a`, { size: 0 }) }, 'skip', 'current'],
  ])('%s', (_label, entry, action, reason) => {
    const d = decide(entry);
    expect(d.action).toBe(action);
    if (d.action !== 'extra') expect(d.reason).toBe(reason);
  });
});

describe('mergeListings + decide', () => {
  it('pairs names with prefixed keys and decides each (table of every case)', async () => {
    const source = [
      gcs('p/current'),
      gcs('p/missing'),
      gcs('p/stale-size', { size: 99 }),
      gcs('p/stale-time', { timeCreated: '2024-06-01T00:00:00Z' }),
    ];
    const sink = [s3(`${KP}p/current`), s3(`${KP}p/extra`), s3(`${KP}p/stale-size`), s3(`${KP}p/stale-time`)];
    expect(await planOf(source, sink)).toEqual([
      ['p/current', 'current'],
      ['p/extra', 'extra'],
      ['p/missing', 'missing'],
      ['p/stale-size', 'stale-size'],
      ['p/stale-time', 'stale-time'],
    ]);
  });

  it('merges in UTF-8 byte order: names above U+FFFF after U+E000–U+FFFF', async () => {
    // The order GCS and S3 list in (UTF-8 bytes), which is not JavaScript's sort order.
    const names = ['a', 'b c', 'b+c', 'z', 'é', '\uE000', '\uFFFD', '\u{1F600}', '\u{1F600}z'];
    const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(sorted).toEqual(names);
    expect([...names].sort()).not.toEqual(names);
    const source = names.filter((_, i) => i % 3 !== 2).map((n) => gcs(n));
    const sink = names.filter((_, i) => i % 3 !== 1).map((n) => s3(KP + n));
    const plan = await planOf(source, sink);
    expect(plan.map(([n]) => n)).toEqual(names);
    expect(plan.map(([, r]) => r)).toEqual(names.map((_, i) => (i % 3 === 0 ? 'current' : i % 3 === 1 ? 'missing' : 'extra')));
  });

  it('works with an empty key prefix and empty listings', async () => {
    expect(await planOf([gcs('x')], [s3('x')], '')).toEqual([['x', 'current']]);
    expect(await planOf([], [], '')).toEqual([]);
    expect(await planOf([], [s3('y')], '')).toEqual([['y', 'extra']]);
  });

  it.each([
    ['GCS out of order', [gcs('b'), gcs('a')], []],
    ['GCS duplicate', [gcs('a'), gcs('a')], []],
    ['GCS in UTF-16 order', [gcs('\u{1F600}'), gcs('\uE000')], []],
    ['S3 out of order', [], [s3(`${KP}b`), s3(`${KP}a`)]],
    ['S3 key outside the prefix', [], [s3('other/a')]],
  ])('refuses a listing it cannot merge: %s', async (_label, source, sink) => {
    await expect(planOf(source, sink)).rejects.toBeInstanceOf(ListingOrderError);
  });

  it('closes both listings when the consumer stops early', async () => {
    const closed: string[] = [];
    async function* tracked<T>(label: string, items: T[]): AsyncGenerator<T> {
      try {
        yield* items;
      } finally {
        closed.push(label);
      }
    }
    for await (const entry of mergeListings(tracked('gcs', [gcs('a'), gcs('b')]), tracked('s3', [s3(`${KP}a`)]), KP)) {
      expect(entry.name).toBe('a');
      break;
    }
    expect(closed.sort()).toEqual(['gcs', 's3']);
  });
});
