import { describe, expect, it } from 'vitest';
import { inRange, ownerOfPiece, rangeOfTask, rangesOfTask, s3StartAfter, S3_MAX_KEY_BYTES } from '../../../src/backfill/key-range.js';
import { planRanges } from '../../../src/backfill/range-planner.js';
import { compareUtf8 } from '../../../src/backfill/utf8-order.js';
import { fakeProber } from './listings.js';

/** Names that stress byte order: empty, control and top characters, multi-byte UTF-8, surrogate pairs, boundary look-alikes. */
const TRICKY = [
  '',
  '\u0000',
  '\u0001',
  'a',
  'a\u0000',
  'a\u0001',
  'a/',
  'a/b',
  'a\u007f',
  'a\u0080',
  'a\u07ff',
  'a\u0800',
  'a\ud7ff',
  'a\ue000',
  'a\uffff',
  'a\u{10000}',
  'a\u{10ffff}',
  'b',
  'é',
  '日本',
  '\u{1f600}',
  '\u{10ffff}',
  '\u{10ffff}\u{10ffff}',
].sort(compareUtf8);

/** S3's StartAfter over a sorted key list: the keys strictly greater than it. */
const after = (keys: string[], startAfter: string | undefined): string[] => keys.filter((k) => startAfter === undefined || compareUtf8(k, startAfter) > 0);

describe('s3StartAfter', () => {
  it.each(TRICKY.map((start) => [start]))('listing after the predecessor of %j starts exactly at it', (start) => {
    expect(after(TRICKY, s3StartAfter(start))).toEqual(TRICKY.filter((k) => compareUtf8(k, start) >= 0));
  });

  it('no key of at most 1,024 bytes lies strictly between the predecessor and the key', () => {
    for (const key of ['b', 'a\u0800', 'x\u{10000}', 'k'.repeat(1000)]) {
      const p = s3StartAfter(key)!;
      expect(compareUtf8(p, key)).toBeLessThan(0);
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
      // The longest key just above the predecessor is no longer below `key`, or too long.
      for (const tail of ['\u0000', '\u{10ffff}']) {
        const candidate = p + tail;
        expect(compareUtf8(candidate, key) >= 0 || Buffer.byteLength(candidate) > S3_MAX_KEY_BYTES).toBe(true);
      }
    }
  });

  it('is undefined for the empty start (list from the beginning)', () => {
    expect(s3StartAfter('')).toBeUndefined();
  });
});

describe('rangeOfTask', () => {
  it.each([[['a']], [['a\u0000', 'a\u{10000}', 'é']], [['b', 'b', 'b']], [TRICKY.slice(1, 6)]])('ranges cut at %j hold every name exactly once', (boundaries) => {
    const count = boundaries.length + 1;
    for (const name of TRICKY) {
      const owners = Array.from({ length: count }, (_, i) => i).filter((i) => inRange(name, rangeOfTask(boundaries, i)));
      expect(owners, name).toHaveLength(1);
    }
  });

  it('a name equal to a boundary belongs to the range it starts', () => {
    expect(inRange('m', rangeOfTask(['m'], 0))).toBe(false);
    expect(inRange('m', rangeOfTask(['m'], 1))).toBe(true);
  });
});

describe('rangesOfTask', () => {
  it('deals pieces in rows of the task count, every other row reversed', () => {
    expect(Array.from({ length: 8 }, (_, piece) => ownerOfPiece(piece, 3))).toEqual([0, 1, 2, 2, 1, 0, 0, 1]);
  });

  it.each([[['b', 'd', 'f', 'h', 'j']], [['a', 'a', 'a', 'a', 'a']], [['', 'é', 'é', '\u{10ffff}', '\u{10ffff}']], [TRICKY.slice(2, 7)]])('tasks of pieces cut at %j hold every name exactly once', (boundaries) => {
    for (const name of [...TRICKY, 'c', 'e', 'k']) {
      const owners = [0, 1, 2].filter((i) => rangesOfTask(boundaries, 3, i).some((r) => inRange(name, r)));
      expect(owners, name).toHaveLength(1);
    }
  });

  it('joins a task\'s adjacent pieces and leaves out empty ones', () => {
    // Pieces [-b) [b-d) [d-f) [f-h) [h-j) [j-): owners 0 1 2 2 1 0.
    expect(rangesOfTask(['b', 'd', 'f', 'h', 'j'], 3, 2)).toEqual([{ start: 'd', end: 'h' }]);
    expect(rangesOfTask(['b', 'd', 'f', 'h', 'j'], 3, 0)).toEqual([{ end: 'b' }, { start: 'j' }]);
    expect(rangesOfTask(['b', 'b', 'f', 'h', 'j'], 3, 1)).toEqual([{ start: 'h', end: 'j' }]);
  });
});

/** Every name of `names` in exactly one task's ranges. */
function coveredOnce(names: string[], boundaries: string[], count: number): void {
  for (const name of names) {
    const owners = Array.from({ length: count }, (_, i) => i).filter((i) => rangesOfTask(boundaries, count, i).some((r) => inRange(name, r)));
    expect(owners, name).toHaveLength(1);
  }
}

describe('planRanges', () => {
  it('over tricky names, plans sorted boundaries whose ranges cover every name once, per task or shared', async () => {
    for (const [count, shared] of [2, 3, 7, 30].flatMap((c) => [[c, false], [c, true]] as const)) {
      const plan = await planRanges({ bucket: 'b', prefix: '', count, prober: fakeProber(TRICKY, 4), shared }, new AbortController().signal);
      expect(plan.boundaries).toHaveLength(plan.piecesPerTask * count - 1);
      expect([...plan.boundaries].sort(compareUtf8)).toEqual(plan.boundaries);
      coveredOnce(TRICKY, plan.boundaries, count);
    }
  });

  it('reads a small prefix whole and cuts it exactly', async () => {
    const names = Array.from({ length: 90 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
    const plan = await planRanges({ bucket: 'b', prefix: 'p/', count: 3, prober: fakeProber(names) }, new AbortController().signal);
    expect(plan).toMatchObject({ exact: true, listCalls: 1, estimatedObjects: 90, boundaries: ['p/015', 'p/030', 'p/045', 'p/060', 'p/075'] });
    // Each task: two pieces of 15 names, from mirrored ends.
    expect(rangesOfTask(plan.boundaries, 3, 0)).toEqual([{ end: 'p/015' }, { start: 'p/075' }]);
    coveredOnce(names, plan.boundaries, 3);
  });

  it('an empty prefix gives every task an empty range but the last piece\'s', async () => {
    const plan = await planRanges({ bucket: 'b', prefix: 'p/', count: 3, prober: fakeProber([]) }, new AbortController().signal);
    expect(plan.boundaries).toEqual(['p/', 'p/', 'p/', 'p/', 'p/']);
    expect([0, 1, 2].map((i) => rangesOfTask(plan.boundaries, 3, i))).toEqual([[{ end: 'p/' }, { start: 'p/' }], [], []]);
  });

  it('one task needs no plan', async () => {
    expect(await planRanges({ bucket: 'b', prefix: '', count: 1, prober: fakeProber(['a']) }, new AbortController().signal)).toMatchObject({ boundaries: [], listCalls: 0 });
  });
});
