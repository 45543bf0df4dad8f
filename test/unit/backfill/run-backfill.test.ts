import { describe, expect, it } from 'vitest';
import { HINT_MAX_AGE_MS, runBackfill, type CopyObject } from '../../../src/backfill/run-backfill.js';
import type { ListedSinkObject, ListedSourceObject } from '../../../src/backfill/ports.js';
import { AbortedError, PermanentError } from '../../../src/errors.js';
import type { Outcome } from '../../../src/model.js';
import { rangesOfTask } from '../../../src/backfill/key-range.js';
import { planRanges } from '../../../src/backfill/range-planner.js';
import { fakeListers, fakeProber, gcs, s3 } from './listings.js';

const KP = 'kp/';

function copied(keyPrefix = KP): CopyObject {
  return async (event) => ({ status: 'copied', key: keyPrefix + event.ref.name, generation: event.ref.generation!, bytes: 10 });
}

function dataset(): { source: ListedSourceObject[]; sink: ListedSinkObject[] } {
  const source: ListedSourceObject[] = [];
  const sink: ListedSinkObject[] = [];
  for (let i = 0; i < 100; i++) {
    const name = `p/${String(i).padStart(3, '0')}`;
    source.push(gcs(name));
    if (i < 30) sink.push(s3(KP + name)); // current
    else if (i < 40) sink.push(s3(KP + name, { size: 3 })); // stale by size
    else if (i < 50) sink.push(s3(KP + name, { lastModified: new Date('2023-12-31T00:00:00Z') })); // stale by time
  }
  for (let i = 0; i < 5; i++) sink.push(s3(`${KP}p/extra-${i}`));
  source.push(gcs('other/outside-prefix'));
  return { source, sink };
}

describe('runBackfill', () => {
  it('hands each copy what the listings told: the GCS resource if listed recently, and whether S3 lacked the key', async () => {
    const resource = (name: string) => ({ bucket: 'b', name, generation: '1700000000000001', metageneration: '1', size: 10, metadata: {} });
    const now = Date.now();
    const source = [
      gcs('p/missing', { resource: resource('p/missing'), listedAtMs: now }),
      gcs('p/stale', { resource: resource('p/stale'), listedAtMs: now }),
      gcs('p/bare'),
      gcs('p/old', { resource: resource('p/old'), listedAtMs: now - HINT_MAX_AGE_MS - 1 }),
    ];
    const sink = [s3(KP + 'p/stale', { size: 3 })];
    const hints = new Map<string, unknown>();
    await runBackfill(
      {
        bucket: 'b',
        prefix: 'p/',
        keyPrefix: KP,
        ...fakeListers(source, sink),
        copy: async (event, signal, h) => {
          hints.set(event.ref.name, h);
          return copied()(event, signal);
        },
        concurrency: 1,
      },
      new AbortController().signal,
    );
    expect(hints.get('p/missing')).toEqual({ source: resource('p/missing'), absentInSink: true });
    expect(hints.get('p/stale')).toEqual({ source: resource('p/stale'), absentInSink: false });
    expect(hints.get('p/bare')).toEqual({ source: undefined, absentInSink: true });
    // Listed too long ago: its headers are read again.
    expect(hints.get('p/old')).toEqual({ source: undefined, absentInSink: true });
  });

  it('copies missing and stale objects, skips current ones, leaves extras, counts everything', async () => {
    const { source, sink } = dataset();
    const names: string[] = [];
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: 'p/',
        keyPrefix: KP,
        ...fakeListers(source, sink),
        copy: async (event, signal) => {
          names.push(event.ref.name);
          expect(event.ref.generation).toBe('1700000000000001');
          return copied()(event, signal);
        },
        concurrency: 4,
      },
      new AbortController().signal,
    );
    expect(result.complete).toBe(true);
    expect(names.sort()).toEqual(Array.from({ length: 70 }, (_, i) => `p/${String(i + 30).padStart(3, '0')}`));
    const t = result.tally;
    expect(t.planned).toEqual({ objects: 70, bytes: 700, byReason: { missing: 50, 'stale-size': 10, 'stale-time': 10 } });
    expect(t.copied).toEqual({ objects: 70, bytes: 700 });
    expect([t.current, t.extraInS3, t.failed, t.listedGcs, t.listedS3, t.done.objects]).toEqual([30, 5, 0, 100, 55, 70]);
  });

  it('reads the listings no further ahead than the workers need', async () => {
    const source = Array.from({ length: 1000 }, (_, i) => gcs(`o/${String(i).padStart(4, '0')}`));
    const listers = fakeListers(source, []);
    const concurrency = 3;
    let active = 0;
    let maxActive = 0;
    let maxAhead = 0;
    let started = 0;
    const release: Array<() => void> = [];
    const run = runBackfill(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: KP,
        ...listers,
        copy: async (event) => {
          started++;
          active++;
          maxActive = Math.max(maxActive, active);
          maxAhead = Math.max(maxAhead, listers.reads.source - started);
          await new Promise<void>((resolve) => release.push(resolve));
          active--;
          return { status: 'copied', key: event.ref.name, generation: '1', bytes: 0 };
        },
        concurrency,
      },
      new AbortController().signal,
    );
    // Let the loop fill the pool and stop reading.
    await new Promise((r) => setTimeout(r, 20));
    expect(listers.reads.source).toBeLessThanOrEqual(2 * concurrency + 1);
    while (started < 1000 || release.length > 0) {
      release.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    const result = await run;
    expect(result.tally.copied.objects).toBe(1000);
    expect(maxActive).toBe(concurrency);
    expect(maxAhead).toBeLessThanOrEqual(2 * concurrency + 1);
  });

  it('a failing object is counted and reported; the others still copy', async () => {
    const source = Array.from({ length: 20 }, (_, i) => gcs(`f/${String(i).padStart(2, '0')}`));
    const outcomes: Outcome[] = [];
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: 'f/',
        keyPrefix: KP,
        ...fakeListers(source, []),
        copy: async (event, signal) => {
          if (event.ref.name === 'f/07') return { status: 'failed', key: KP + event.ref.name, retryable: false, error: new PermanentError('read failed', { code: 'Boom' }), generation: event.ref.generation };
          if (event.ref.name === 'f/08') throw new Error('adapter threw'); // a contract breach still counts as one failure
          return copied()(event, signal);
        },
        concurrency: 2,
        onOutcome: ({ outcome }) => outcomes.push(outcome),
      },
      new AbortController().signal,
    );
    expect(result.complete).toBe(true);
    expect(result.tally.copied.objects).toBe(18);
    expect(result.tally.failed).toBe(2);
    expect(result.tally.failures).toEqual([
      { object: 'gs://b/f/07', generation: '1700000000000001', key: 'kp/f/07', retryable: false, error: 'read failed', code: 'Boom' },
      { object: 'gs://b/f/08', generation: '1700000000000001', key: 'kp/f/08', retryable: true, error: 'adapter threw' },
    ]);
    expect(outcomes).toHaveLength(20);
  });

  it('keeps at most maxFailuresKept failures, counting the rest', async () => {
    const source = Array.from({ length: 10 }, (_, i) => gcs(`f/${i}`));
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: '',
        ...fakeListers(source, []),
        copy: async (event) => ({ status: 'failed', key: event.ref.name, retryable: true, error: new Error('x') }),
        concurrency: 3,
        maxFailuresKept: 4,
      },
      new AbortController().signal,
    );
    expect([result.tally.failed, result.tally.failures.length, result.tally.failuresOmitted]).toEqual([10, 4, 6]);
  });

  it('dry run decides and counts but copies nothing', async () => {
    const { source, sink } = dataset();
    const decisions: string[] = [];
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: 'p/',
        keyPrefix: KP,
        ...fakeListers(source, sink),
        copy: async () => {
          throw new Error('must not copy in a dry run');
        },
        concurrency: 4,
        dryRun: true,
        onDecision: (d) => {
          if (d.action === 'copy') decisions.push(`${d.name} ${d.reason}`);
        },
      },
      new AbortController().signal,
    );
    expect(decisions).toHaveLength(70);
    expect(decisions[0]).toBe('p/030 stale-size');
    expect(decisions.at(-1)).toBe('p/099 missing');
    expect(result.tally.planned.objects).toBe(70);
    expect(result.tally.copied.objects).toBe(0);
    expect(result.complete).toBe(true);
  });

  it('three ranged tasks copy every object exactly once between them, each listing only its range', async () => {
    const { source, sink } = dataset();
    const copiedBy = new Map<string, number[]>();
    let planned = 0;
    let listed = 0;
    const plan = await planRanges({ bucket: 'b', prefix: 'p/', count: 3, prober: fakeProber(source.map((o) => o.name), 10) }, new AbortController().signal);
    for (let index = 0; index < 3; index++) {
      const result = await runBackfill(
        {
          bucket: 'b',
          prefix: 'p/',
          keyPrefix: KP,
          ...fakeListers(source, sink),
          copy: async (event, signal) => {
            copiedBy.set(event.ref.name, [...(copiedBy.get(event.ref.name) ?? []), index]);
            return copied()(event, signal);
          },
          concurrency: 2,
          shard: { index, count: 3, ranges: rangesOfTask(plan.boundaries, 3, index) },
        },
        new AbortController().signal,
      );
      planned += result.tally.planned.objects;
      listed += result.tally.listedGcs;
      expect(result.tally.listedGcs).toBeGreaterThan(20); // a real share each
      expect(result.tally.otherShards).toBe(0);
      expect(result.tally.planned.objects + result.tally.current).toBe(result.tally.listedGcs);
    }
    expect(listed).toBe(100);
    expect(planned).toBe(70);
    expect(copiedBy.size).toBe(70);
    expect([...copiedBy.values()].every((owners) => owners.length === 1)).toBe(true);
  });

  it('a listing failure stops taking work, waits for running copies, and is returned', async () => {
    let finished = 0;
    const sourceLister = {
      async *list() {
        yield gcs('a');
        yield gcs('b');
        throw new Error('GCS list failed: 503');
      },
    };
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: '',
        sourceLister,
        sinkLister: fakeListers([], []).sinkLister,
        copy: async (event) => {
          await new Promise((r) => setTimeout(r, 20));
          finished++;
          return { status: 'copied', key: event.ref.name, generation: '1', bytes: 1 };
        },
        concurrency: 4,
      },
      new AbortController().signal,
    );
    expect(result.error?.message).toBe('GCS list failed: 503');
    expect(result.complete).toBe(false);
    expect(finished).toBe(2);
    expect(result.tally.copied.objects).toBe(2);
  });

  it('an abort stops taking work and passes the signal to running copies', async () => {
    const controller = new AbortController();
    const source = Array.from({ length: 100 }, (_, i) => gcs(`o/${String(i).padStart(3, '0')}`));
    let started = 0;
    const result = await runBackfill(
      {
        bucket: 'b',
        prefix: '',
        keyPrefix: '',
        ...fakeListers(source, []),
        copy: async (event, signal) => {
          if (++started === 5) controller.abort();
          if (signal.aborted) return { status: 'failed', key: event.ref.name, retryable: true, error: new AbortedError('aborted') };
          return { status: 'copied', key: event.ref.name, generation: '1', bytes: 1 };
        },
        concurrency: 2,
      },
      controller.signal,
    );
    expect(result.interrupted).toBe(true);
    expect(result.complete).toBe(false);
    expect(started).toBeLessThan(10);
    // Copies cut short by the abort are not failures of their objects.
    expect(result.tally.failed).toBe(0);
    expect(result.tally.abandoned).toBe(started - 4);
    expect(result.tally.copied.objects).toBe(4);
  });
});
