/**
 * Memory of backfill planning against the object count: plans generated
 * listings of 10,000 and 100,000 names (no network) through the real
 * pipeline (paginated listers, merge, plan, shard filter, bounded copy pool
 * with an instant copy) and prints peak RSS and heap for each, and their
 * ratio. Flat means the ratio stays near 1 while the count grows tenfold.
 *
 * Each size runs in a fresh process so one run's heap cannot hide the
 * other's. Run: npx tsx bench/backfill-plan.ts [--json]
 * (`--json`: one JSON line, BackfillPlanResult, for bench/run.ts, which runs
 * the compiled file under plain node so no tsx loader sits in the numbers).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { paginate } from '../src/backfill/paginate.js';
import type { ListedSinkObject, ListedSourceObject, SinkLister, SourceLister } from '../src/backfill/ports.js';
import { runBackfill } from '../src/backfill/run-backfill.js';

const SIZES = [10_000, 100_000];
const PAGE = 1000;
const KEY_PREFIX = 'mirror/';
const CREATED = '2024-01-01T00:00:00.000Z';

export interface Measurement {
  objects: number;
  copies: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  /** Largest heap right after a full GC, sampled every 2,000 entries: the live set while planning. */
  peakLiveHeapMiB: number;
  /** Heap after a full GC at the end: what the run kept. */
  retainedHeapMiB: number;
  seconds: number;
}

/** Object i: names sorted by construction; a third current in S3, a tenth stale, a few extra keys. */
function name(i: number): string {
  return `bench/2024/${String(i).padStart(9, '0')}.json`;
}

function sourceLister(count: number): SourceLister {
  return {
    list(_bucket, _prefix, signal) {
      return paginate(async (token) => {
        const start = token === undefined ? 0 : Number(token);
        const items: ListedSourceObject[] = [];
        for (let i = start; i < Math.min(start + PAGE, count); i++) {
          items.push({ name: name(i), generation: String(1700000000000000 + i), size: 4096, crc32c: 'AAAAAA==', timeCreated: CREATED });
        }
        return { items, next: start + PAGE < count ? String(start + PAGE) : undefined };
      }, signal);
    },
  };
}

function sinkLister(count: number): SinkLister {
  const inS3 = (i: number): boolean => i % 3 === 0 || i % 10 === 1;
  return {
    list(_prefix, signal) {
      return paginate(async (token) => {
        let i = token === undefined ? 0 : Number(token);
        const items: ListedSinkObject[] = [];
        for (; i < count && items.length < PAGE; i++) {
          if (!inS3(i)) continue;
          const stale = i % 10 === 1;
          items.push({ key: KEY_PREFIX + name(i), size: stale ? 100 : 4096, etag: '"x"', lastModified: new Date('2024-02-01T00:00:00Z') });
        }
        return { items, next: i < count ? String(i) : undefined };
      }, signal);
    },
  };
}

async function child(count: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  let peakRss = 0;
  let peakHeap = 0;
  let peakLive = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 5);
  let seen = 0;
  const started = performance.now();
  const result = await runBackfill(
    {
      bucket: 'bench-bucket',
      prefix: 'bench/',
      keyPrefix: KEY_PREFIX,
      sourceLister: sourceLister(count),
      sinkLister: sinkLister(count),
      // An instant copy: what is measured is the planning pipeline, not transfers.
      copy: async (event) => ({ status: 'copied', key: KEY_PREFIX + event.ref.name, generation: event.ref.generation!, bytes: 4096 }),
      concurrency: 8,
      onDecision: () => {
        if (++seen % 500 === 0) sample();
        if (seen % 2000 === 0 && gc !== undefined) {
          gc();
          peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
        }
      },
    },
    new AbortController().signal,
  );
  clearInterval(timer);
  sample();
  gc?.();
  const measurement: Measurement = {
    objects: result.tally.listedGcs,
    copies: result.tally.copied.objects,
    peakRssMiB: peakRss / 1048576,
    peakHeapMiB: peakHeap / 1048576,
    peakLiveHeapMiB: peakLive / 1048576,
    retainedHeapMiB: process.memoryUsage().heapUsed / 1048576,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

function measure(count: number): Measurement {
  const script = fileURLToPath(import.meta.url);
  const run = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', script, '--child', String(count)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`bench child for ${count} objects failed (${run.status}): ${run.stderr}`);
  const line = run.stdout.trim().split('\n').at(-1)!;
  return JSON.parse(line) as Measurement;
}

export interface BackfillPlanResult {
  results: Measurement[];
  rssRatio: number;
  liveRatio: number;
  flat: boolean;
}

function main(json: boolean): void {
  const results = SIZES.map(measure);
  const f = (n: number): string => n.toFixed(1);
  for (const r of results) {
    console.log(
      `backfill plan ${r.objects.toLocaleString('en-US')} objects (${r.copies.toLocaleString('en-US')} copies): ` +
        `peak RSS ${f(r.peakRssMiB)} MiB, peak heap ${f(r.peakHeapMiB)} MiB, peak live heap ${f(r.peakLiveHeapMiB)} MiB, retained ${f(r.retainedHeapMiB)} MiB, ` +
        `${f(r.seconds)} s (${Math.round(r.objects / r.seconds).toLocaleString('en-US')} objects/s)`,
    );
  }
  const [small, large] = results as [Measurement, Measurement];
  const rssRatio = large.peakRssMiB / small.peakRssMiB;
  const liveRatio = large.peakLiveHeapMiB / small.peakLiveHeapMiB;
  // Flat: ten times the objects, under 1.25 times the memory. The live heap
  // (after a full GC) is what the code holds; the plain heap peak is mostly
  // how long V8 waits before collecting garbage, and RSS follows it.
  const flat = rssRatio < 1.25 && liveRatio < 1.25;
  if (json) {
    const summary: BackfillPlanResult = { results, rssRatio, liveRatio, flat };
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(
    `RESULT backfill-plan: ${flat ? 'PASS' : 'FAIL'} memory flat in object count: ` +
      `100k/10k peak RSS ratio ${rssRatio.toFixed(2)} (${f(small.peakRssMiB)} → ${f(large.peakRssMiB)} MiB), ` +
      `peak live heap ratio ${liveRatio.toFixed(2)} (${f(small.peakLiveHeapMiB)} → ${f(large.peakLiveHeapMiB)} MiB)`,
  );
  if (!flat) process.exitCode = 1;
}

const childAt = process.argv.indexOf('--child');
if (childAt !== -1) await child(Number(process.argv[childAt + 1]));
else main(process.argv.includes('--json'));
