/**
 * The scale simulation: synthetic keyspaces of any size, generated lazily
 * (name i is computed, never stored), listed through the real GcsLister and
 * S3Lister over in-memory stand-ins of the two list APIs, planned by the
 * real range planner and walked by the real walk. Counts list calls and
 * objects per task. Used by the unit test (small N) and by
 * scripts/simulate-scale.ts (10 million, writes docs/scale.md).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { rangesOfTask } from '../../src/backfill/key-range.js';
import { planRanges } from '../../src/backfill/range-planner.js';
import { createListingCounts, walkListings } from '../../src/backfill/walk.js';
import { compareUtf8 } from '../../src/backfill/utf8-order.js';
import { S3Lister } from '../../src/sink/s3-lister.js';
import { GcsLister } from '../../src/source/gcs-lister.js';

/** Sorted names, name(i) computed on demand. */
export interface Keyspace {
  shape: string;
  description: string;
  size: number;
  name(i: number): string;
}

const hex = (value: number, width: number): string => Math.floor(value).toString(16).padStart(width, '0');

/** Names spread evenly over one sub-prefix. */
export function uniformKeyspace(size: number): Keyspace {
  const step = 2 ** 48 / size;
  return { shape: 'uniform', description: '`objects/<12 hex digits>`, evenly spread', size, name: (i) => `objects/${hex(i * step, 12)}` };
}

/** 92 % of the names under `logs/app/`, 4 % before it, 4 % after it. */
export function skewedKeyspace(size: number): Keyspace {
  const a = Math.floor(size * 0.04);
  const b = Math.floor(size * 0.96);
  return {
    shape: 'skewed',
    description: '92 % under `logs/app/`, 4 % under `assets/` and 4 % under `users/`',
    size,
    name(i) {
      if (i < a) return `assets/${hex((i * 2 ** 40) / a, 10)}`;
      if (i < b) return `logs/app/${hex(((i - a) * 2 ** 44) / (b - a), 11)}.log`;
      return `users/${hex(((i - b) * 2 ** 40) / (size - b), 10)}/avatar.png`;
    },
  };
}

/** `events/YYYY/MM/DD/part-N.parquet` over three years, daily volume growing fourfold. */
export function datedKeyspace(size: number): Keyspace {
  const days = 3 * 365;
  const first = Date.UTC(2022, 0, 1);
  const weights = Array.from({ length: days }, (_, d) => 1 + (3 * d) / (days - 1));
  const total = weights.reduce((x, y) => x + y, 0);
  const starts: number[] = [];
  let acc = 0;
  for (const w of weights) {
    starts.push(Math.floor((acc / total) * size));
    acc += w;
  }
  const labels = weights.map((_, d) => new Date(first + d * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '/'));
  return {
    shape: 'date-partitioned',
    description: '`events/YYYY/MM/DD/part-NNNNNNN.parquet`, 1,095 days, daily volume growing 4×',
    size,
    name(i) {
      let lo = 0;
      let hi = days - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= i) lo = mid;
        else hi = mid - 1;
      }
      return `events/${labels[lo]}/part-${String(i - starts[lo]!).padStart(7, '0')}.parquet`;
    },
  };
}

/** The first index whose name is ≥ `name` (binary search: the names are sorted). */
function lowerBound(ks: Keyspace, name: string): number {
  let lo = 0;
  let hi = ks.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareUtf8(ks.name(mid), name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface GetFilesQuery {
  maxResults?: number;
  startOffset?: string;
  endOffset?: string;
  pageToken?: string;
}

/** objects.list over a keyspace: startOffset inclusive, endOffset exclusive, as GCS. */
export function fakeStorage(ks: Keyspace, calls: { count: number }): Storage {
  const getFiles = async (q: GetFilesQuery): Promise<unknown[]> => {
    calls.count++;
    const from = q.pageToken !== undefined ? Number(q.pageToken) : q.startOffset === undefined ? 0 : lowerBound(ks, q.startOffset);
    const end = q.endOffset === undefined ? ks.size : lowerBound(ks, q.endOffset);
    const to = Math.min(end, from + (q.maxResults ?? 1000));
    const items = [];
    for (let i = from; i < to; i++) items.push({ name: ks.name(i), generation: '1', size: '1', timeCreated: '2024-01-01T00:00:00Z' });
    return [[], null, { items, ...(to < end ? { nextPageToken: String(to) } : {}) }];
  };
  return { bucket: () => ({ getFiles }) } as unknown as Storage;
}

interface ListQuery {
  MaxKeys?: number;
  StartAfter?: string;
  ContinuationToken?: string;
}

/** ListObjectsV2 over a keyspace (keys = names): StartAfter exclusive, as S3. */
export function fakeS3(ks: Keyspace, calls: { count: number }): S3Client {
  const send = async (command: { input: ListQuery }): Promise<unknown> => {
    calls.count++;
    const q = command.input;
    let from = 0;
    if (q.ContinuationToken !== undefined) from = Number(q.ContinuationToken);
    else if (q.StartAfter !== undefined) {
      from = lowerBound(ks, q.StartAfter);
      if (from < ks.size && ks.name(from) === q.StartAfter) from++;
    }
    const to = Math.min(ks.size, from + (q.MaxKeys ?? 1000));
    const Contents = [];
    for (let i = from; i < to; i++) Contents.push({ Key: ks.name(i), Size: 1, ETag: '"e"', LastModified: new Date('2024-01-02T00:00:00Z') });
    return { Contents, IsTruncated: to < ks.size, ...(to < ks.size ? { NextContinuationToken: String(to) } : {}) };
  };
  return { send } as unknown as S3Client;
}

export interface TaskFigures {
  planCalls: number;
  gcsCalls: number;
  s3Calls: number;
  objects: number;
}

/**
 * The plan (computed once here) and its list calls: per task, every task
 * computes it alike and pays them; shared, task 0 computes it and pays them,
 * the others read it (one object read, not a list call).
 */
export async function simulatePlan(ks: Keyspace, count: number, pageSize: number, signal: AbortSignal, shared = false): Promise<{ boundaries: string[]; listCalls: number }> {
  if (count === 1) return { boundaries: [], listCalls: 0 };
  const calls = { count: 0 };
  const plan = await planRanges({ bucket: 'b', prefix: '', count, prober: new GcsLister(fakeStorage(ks, calls), { pageSize }), shared }, signal);
  return { boundaries: plan.boundaries, listCalls: calls.count };
}

/** One task of `count`, as `gcs2s3 verify` runs it with S3 already holding every object (both sides listed). */
export async function simulateTask(ks: Keyspace, planned: { boundaries: string[]; listCalls: number; shared?: boolean }, count: number, index: number, pageSize: number, signal: AbortSignal): Promise<TaskFigures> {
  const gcs = { count: 0 };
  const s3 = { count: 0 };
  const counts = createListingCounts();
  let objects = 0;
  await walkListings(
    {
      bucket: 'b',
      prefix: '',
      keyPrefix: '',
      sourceLister: new GcsLister(fakeStorage(ks, gcs), { pageSize }),
      sinkLister: new S3Lister({ client: fakeS3(ks, s3), bucket: 's3', pageSize }),
      concurrency: 1,
      shard: { index, count, ranges: rangesOfTask(planned.boundaries, count, index) },
      counts,
    },
    (entry) => {
      if (entry.source !== undefined && entry.sink !== undefined) objects++;
      return undefined;
    },
    signal,
  );
  if (counts.listedGcs !== objects || counts.listedS3 !== objects || counts.otherShards !== 0) throw new Error(`task ${index}: listings disagree`);
  return { planCalls: planned.shared === true && index > 0 ? 0 : planned.listCalls, gcsCalls: gcs.count, s3Calls: s3.count, objects };
}

export interface ShapeFigures {
  shape: string;
  /** The plan computed once and read by every task (PLAN_BUCKET), rather than by every task alike. */
  shared: boolean;
  description: string;
  objects: number;
  tasks: number;
  pageSize: number;
  /** One task listing everything: GCS + S3 list calls. */
  oneTaskCalls: number;
  perTask: TaskFigures[];
  totalCalls: number;
  /** totalCalls ÷ oneTaskCalls. */
  callRatio: number;
  /** Most objects in one task ÷ the mean. */
  imbalance: number;
  /** List calls of one plan (paid once when shared, by every task otherwise). */
  planCallsPerTask: number;
  /** CPU time of one plan (the simulated list calls answer at once). */
  planSeconds: number;
  boundaries: string[];
  seconds: number;
}

/** One task listing everything (the same for every plan: pass it to simulateShape to list once). */
export function simulateOneTask(ks: Keyspace, pageSize: number, signal: AbortSignal): Promise<TaskFigures> {
  return simulateTask(ks, { boundaries: [], listCalls: 0 }, 1, 0, pageSize, signal);
}

/** Every task of one shape, one after the other, and the one-task run to compare with. */
export async function simulateShape(ks: Keyspace, tasks: number, pageSize: number, signal: AbortSignal, shared = false, oneTask?: TaskFigures): Promise<ShapeFigures> {
  const started = performance.now();
  const one = oneTask ?? (await simulateOneTask(ks, pageSize, signal));
  const planStarted = performance.now();
  const plan = { ...(await simulatePlan(ks, tasks, pageSize, signal, shared)), shared };
  const planSeconds = (performance.now() - planStarted) / 1000;
  const perTask: TaskFigures[] = [];
  for (let index = 0; index < tasks; index++) perTask.push(await simulateTask(ks, plan, tasks, index, pageSize, signal));
  const covered = perTask.reduce((a, t) => a + t.objects, 0);
  if (covered !== ks.size || one.objects !== ks.size) throw new Error(`${ks.shape}: tasks covered ${covered} of ${ks.size} objects`);
  const oneTaskCalls = one.gcsCalls + one.s3Calls;
  const totalCalls = perTask.reduce((a, t) => a + t.planCalls + t.gcsCalls + t.s3Calls, 0);
  const mean = ks.size / tasks;
  return {
    shape: ks.shape,
    description: ks.description,
    shared,
    objects: ks.size,
    tasks,
    pageSize,
    oneTaskCalls,
    perTask,
    totalCalls,
    callRatio: totalCalls / oneTaskCalls,
    imbalance: Math.max(...perTask.map((t) => t.objects)) / mean,
    planCallsPerTask: plan.listCalls,
    planSeconds,
    boundaries: plan.boundaries,
    seconds: (performance.now() - started) / 1000,
  };
}
