import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inRange, s3StartAfter, type KeyRange } from '../../src/backfill/key-range.js';
import { compareUtf8 } from '../../src/backfill/utf8-order.js';
import { startHttpRecorder, type HttpRecorder } from '../support/http-recorder.js';
import { startCli, stopAll } from '../support/processes.js';
import { adminS3, stackEnv, deleteVersionedBucket, listObjectVersions, seedNamedObjects, uniquePrefix, useStackEnv, type ObjectVersion } from '../support/stack.js';

/**
 * Four Cloud Run Job tasks as four processes over a skewed prefix (80 % of the
 * names under one sub-prefix). Each process talks to GCS and S3 through its
 * own recording proxy, so the list requests each one sent can be read back.
 */
const COUNT = 2000;
const TASKS = 4;
let env: Record<string, string>;
let s3: S3Client;
let bucket: string;
let prefix: string;
let names: string[];
const recorders: HttpRecorder[] = [];

beforeAll(async () => {
  env = useStackEnv();
  s3 = adminS3();
  bucket = `gcs2s3-rng-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Versioned: a key written twice has two versions.
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  prefix = uniquePrefix('rng');
  names = Array.from({ length: COUNT }, (_, i) => {
    const id = String(i).padStart(5, '0');
    if (i < 200) return `${prefix}assets/${id}.png`;
    if (i < 1800) return `${prefix}logs/app/${id}.log`;
    return `${prefix}users/${id}/é-${id}`;
  });
  await seedNamedObjects(env, names);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await Promise.all(recorders.map((r) => r.close()));
  if (s3 !== undefined && bucket !== undefined) {
    await deleteVersionedBucket(s3, bucket);
    s3.destroy();
  }
});

const listVersions = (): Promise<ObjectVersion[]> => listObjectVersions(s3, bucket);

/** GCS objects.list calls of the walk (the planner's probes ask for names only). */
const gcsListings = (r: HttpRecorder): URL[] =>
  r.requests.filter((q) => q.method === 'GET' && /\/storage\/v1\/b\/[^/]+\/o$/.test(q.url.pathname) && (q.url.searchParams.get('fields') ?? '').includes('generation')).map((q) => q.url);
const s3Listings = (r: HttpRecorder): URL[] => r.requests.filter((q) => q.method === 'GET' && q.url.searchParams.get('list-type') === '2').map((q) => q.url);

describe('backfill split across four tasks by range', () => {
  it('copies every object exactly once, each task listing only its own ranges on both sides', async () => {
    const keyPrefix = uniquePrefix('rng-out');
    const url = `gs://${env.GCS_BUCKET}/${prefix}`;
    const tasks = [];
    for (let index = 0; index < TASKS; index++) {
      const gcs = await startHttpRecorder(env.STORAGE_EMULATOR_HOST!);
      const s3proxy = await startHttpRecorder(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL!);
      recorders.push(gcs, s3proxy);
      const childEnv = { ...process.env, ...stackEnv(), STORAGE_EMULATOR_HOST: gcs.url, AWS_ENDPOINT_URL_S3: s3proxy.url, S3_BUCKET: bucket, S3_KEY_PREFIX: keyPrefix };
      const worker = startCli(['backfill', url, '--concurrency', '8'], { ...childEnv, CLOUD_RUN_TASK_INDEX: String(index), CLOUD_RUN_TASK_COUNT: String(TASKS) });
      tasks.push({ worker, gcs, s3: s3proxy });
    }
    const codes = await Promise.all(tasks.map((t) => t.worker.exited));
    expect(codes, tasks.map((t) => t.worker.stderr.join('')).join('\n')).toEqual(tasks.map(() => 0));

    // Exactly once: one copied line per object across the four processes, one version per key.
    const copied = tasks.flatMap((t) => t.worker.lines.filter((l) => l.outcome === 'copied').map((l) => String(l.object)));
    expect(copied).toHaveLength(COUNT);
    expect(new Set(copied).size).toBe(COUNT);
    const versions = await listVersions();
    expect(versions).toHaveLength(COUNT);

    const ranges = tasks.map((t) => (t.worker.lines.find((l) => l.plan !== undefined)!.plan as { ranges: KeyRange[] }).ranges);
    // The tasks' ranges, in order, tile the prefix: the first and last open, each starting where the one before ends.
    const tiles = ranges.flat().sort((a, b) => (a.start === undefined ? -1 : b.start === undefined ? 1 : compareUtf8(a.start, b.start)));
    expect(tiles[0]!.start).toBeUndefined();
    expect(tiles.at(-1)!.end).toBeUndefined();
    for (let i = 1; i < tiles.length; i++) expect(tiles[i]!.start).toBe(tiles[i - 1]!.end);
    for (const [i, t] of tasks.entries()) {
      const mine = names.filter((n) => ranges[i]!.some((range) => inRange(n, range)));
      // The task copied exactly the names in its ranges.
      expect(t.worker.lines.filter((l) => l.outcome === 'copied').map((l) => String(l.object)).sort()).toEqual(mine.map((n) => `gs://${env.GCS_BUCKET}/${n}`).sort());
      const gcsCalls = gcsListings(t.gcs);
      const s3Calls = s3Listings(t.s3);
      expect(gcsCalls.length).toBeGreaterThanOrEqual(ranges[i]!.length);
      // Every GCS list call asks for exactly one of the task's ranges.
      const asked = (call: URL): string => JSON.stringify([call.searchParams.get('startOffset') ?? undefined, call.searchParams.get('endOffset') ?? undefined]);
      const own = new Set(ranges[i]!.map((r) => JSON.stringify([r.start, r.end])));
      for (const call of gcsCalls) expect(own, asked(call)).toContain(asked(call));
      // S3: each range's listing starts right below it (continuation pages follow it).
      const starts = s3Calls.filter((c) => !c.searchParams.has('continuation-token')).map((c) => c.searchParams.get('start-after') ?? undefined);
      expect(starts).toEqual(ranges[i]!.map((r) => (r.start === undefined ? undefined : s3StartAfter(keyPrefix + r.start))));
      // A task's pages cover its share, not the prefix: at most its own pages plus one per range.
      expect(gcsCalls.length).toBeLessThanOrEqual(Math.ceil(mine.length / 1000) + ranges[i]!.length);
      expect(s3Calls.length).toBeLessThanOrEqual(Math.ceil(mine.length / 1000) + ranges[i]!.length);
    }
  }, 240_000);
});
