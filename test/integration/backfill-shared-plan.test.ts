import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inRange, rangesOfTask, type KeyRange } from '../../src/backfill/key-range.js';
import { decodePlan } from '../../src/backfill/shared-plan.js';
import { GcsPlanStore } from '../../src/source/gcs-plan-store.js';
import { startHttpRecorder, type HttpRecorder } from '../support/http-recorder.js';
import { startCli, stopAll, type Worker } from '../support/processes.js';
import { adminS3, gcsClient, stackEnv, deleteVersionedBucket, listObjectVersions, seedNamedObjects, uniquePrefix, useStackEnv, type ObjectVersion } from '../support/stack.js';

/**
 * Four Cloud Run Job tasks of one execution sharing their range plan through
 * PLAN_BUCKET (fake-gcs-server), over a skewed prefix, each process behind its
 * own recording proxy so its GCS requests can be read back: only task 0
 * samples the prefix, every task uses the plan object's boundaries.
 */
const COUNT = 1500;
const TASKS = 4;
const JOB = 'backfill';
const EXECUTION = `backfill-${randomBytes(3).toString('hex')}`;
let env: Record<string, string>;
let s3: S3Client;
let gcs: Storage;
let bucket: string;
let planBucket: string;
let prefix: string;
let names: string[];
const recorders: HttpRecorder[] = [];

beforeAll(async () => {
  env = useStackEnv();
  s3 = adminS3();
  gcs = gcsClient();
  bucket = `gcs2s3-plan-${randomBytes(4).toString('hex')}`;
  planBucket = `gcs2s3-plans-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // Versioned: a key written twice has two versions.
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await gcs.createBucket(planBucket);
  prefix = uniquePrefix('plan');
  names = Array.from({ length: COUNT }, (_, i) => {
    const id = String(i).padStart(5, '0');
    if (i < 150) return `${prefix}assets/${id}.png`;
    if (i < 1350) return `${prefix}logs/app/${id}.log`;
    return `${prefix}users/${id}/é-${id}`;
  });
  await seedNamedObjects(env, names);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await Promise.all(recorders.map((r) => r.close()));
  if (gcs !== undefined && planBucket !== undefined) {
    await gcs.bucket(planBucket).deleteFiles().catch(() => {});
    await gcs.bucket(planBucket).delete().catch(() => {});
  }
  if (s3 !== undefined && bucket !== undefined) {
    await deleteVersionedBucket(s3, bucket);
    s3.destroy();
  }
});

const listVersions = (): Promise<ObjectVersion[]> => listObjectVersions(s3, bucket);

const listCalls = (r: HttpRecorder): URL[] => r.requests.filter((q) => q.method === 'GET' && /\/storage\/v1\/b\/[^/]+\/o$/.test(q.url.pathname)).map((q) => q.url);
/** The planner's probes ask for names only; the walk asks for generations too. */
const probes = (r: HttpRecorder): URL[] => listCalls(r).filter((u) => u.searchParams.get('fields') === 'nextPageToken,items(name)');
const walkCalls = (r: HttpRecorder): URL[] => listCalls(r).filter((u) => (u.searchParams.get('fields') ?? '').includes('generation'));

interface LoggedPlan {
  source: string;
  writtenBy: number;
  object: string;
  generation: string;
  ranges: KeyRange[];
}

async function runTask(index: number, keyPrefix: string): Promise<{ worker: Worker; gcs: HttpRecorder }> {
  const gcsProxy = await startHttpRecorder(env.STORAGE_EMULATOR_HOST!);
  recorders.push(gcsProxy);
  const childEnv = { ...process.env, ...stackEnv(), STORAGE_EMULATOR_HOST: gcsProxy.url, S3_BUCKET: bucket, S3_KEY_PREFIX: keyPrefix };
  const worker = startCli(['backfill', `gs://${env.GCS_BUCKET}/${prefix}`, '--concurrency', '8'], {
    ...childEnv,
    CLOUD_RUN_TASK_INDEX: String(index),
    CLOUD_RUN_TASK_COUNT: String(TASKS),
    CLOUD_RUN_JOB: JOB,
    CLOUD_RUN_EXECUTION: EXECUTION,
    PLAN_BUCKET: planBucket,
  });
  return { worker, gcs: gcsProxy };
}

const loggedPlan = (w: Worker): LoggedPlan => w.lines.find((l) => l.plan !== undefined)!.plan as LoggedPlan;
const copiedBy = (w: Worker): string[] => w.lines.filter((l) => l.outcome === 'copied').map((l) => String(l.object));

describe('backfill tasks sharing one plan through PLAN_BUCKET', () => {
  it('only task 0 samples; every task lists the plan object’s ranges; each object is copied once; a restarted task reads the plan', async () => {
    const keyPrefix = uniquePrefix('plan-out');
    const tasks = await Promise.all(Array.from({ length: TASKS }, (_, index) => runTask(index, keyPrefix)));
    const codes = await Promise.all(tasks.map((t) => t.worker.exited));
    expect(codes, tasks.map((t) => t.worker.stderr.join('')).join('\n')).toEqual(tasks.map(() => 0));

    // Exactly one process sampled the prefix: task 0, which created the plan object.
    expect(tasks.map((t) => probes(t.gcs).length > 0)).toEqual([true, false, false, false]);
    const logged = tasks.map((t) => loggedPlan(t.worker));
    expect(logged.map((p) => p.source)).toEqual(['computed', 'read', 'read', 'read']);
    expect(new Set(logged.map((p) => `${p.object}#${p.generation}#${p.writtenBy}`))).toEqual(new Set([`gs://${planBucket}/${JOB}/${EXECUTION}/plan.json#${logged[0]!.generation}#0`]));
    // The others waited for it and said so.
    for (const t of tasks.slice(1)) expect(t.worker.lines.some((l) => String(l.message).includes("waits for task 0's plan"))).toBe(true);

    // The plan object, read back, is the plan every process used.
    const [bytes] = await gcs.bucket(planBucket).file(`${JOB}/${EXECUTION}/plan.json`).download();
    const plan = decodePlan(bytes.toString('utf8'), 'plan.json');
    expect(plan).toMatchObject({ bucket: env.GCS_BUCKET, prefix, taskCount: TASKS, writtenBy: 0, listCalls: probes(tasks[0]!.gcs).length });
    expect(plan.boundaries.length).toBe(plan.piecesPerTask * TASKS - 1);
    for (const [i, p] of logged.entries()) expect(p.ranges).toEqual(rangesOfTask(plan.boundaries, TASKS, i));

    // Exactly once: one copied line per object across the four processes, one version per key.
    const copied = tasks.flatMap((t) => copiedBy(t.worker));
    expect(copied).toHaveLength(COUNT);
    expect(new Set(copied).size).toBe(COUNT);
    expect(await listVersions()).toHaveLength(COUNT);
    for (const [i, t] of tasks.entries()) {
      const mine = names.filter((n) => logged[i]!.ranges.some((range) => inRange(n, range)));
      expect(copiedBy(t.worker).sort()).toEqual(mine.map((n) => `gs://${env.GCS_BUCKET}/${n}`).sort());
      // Every walk list call asks for exactly one of the task's ranges.
      const own = new Set(logged[i]!.ranges.map((r) => JSON.stringify([r.start, r.end])));
      for (const call of walkCalls(t.gcs)) expect(own).toContain(JSON.stringify([call.searchParams.get('startOffset') ?? undefined, call.searchParams.get('endOffset') ?? undefined]));
    }

    // Task 2 killed and retried by Cloud Run: it reads the same plan, samples nothing, finds its objects current.
    const again = await runTask(2, keyPrefix);
    expect(await again.worker.exited, again.worker.stderr.join('')).toBe(0);
    expect(probes(again.gcs)).toEqual([]);
    expect(loggedPlan(again.worker)).toMatchObject({ source: 'read', writtenBy: 0, generation: logged[0]!.generation, ranges: logged[2]!.ranges });
    expect(copiedBy(again.worker)).toEqual([]);
    expect(await listVersions()).toHaveLength(COUNT);
  }, 240_000);

  it('GcsPlanStore: a missing plan reads as none; of two creates the first wins (ifGenerationMatch=0) and both read it back', async () => {
    const signal = new AbortController().signal;
    const object = `${JOB}/race-${randomBytes(3).toString('hex')}/plan.json`;
    const [a, b] = [0, 1].map(() => new GcsPlanStore(gcs, { bucket: planBucket, object, deadlineMs: 20_000 }));
    expect(await a!.read(signal)).toBeUndefined();
    expect(await a!.create('{"first": true}\n', signal)).toBe(true);
    expect(await b!.create('{"second": true}\n', signal)).toBe(false);
    const [fromA, fromB] = await Promise.all([a!.read(signal), b!.read(signal)]);
    expect(fromA).toEqual(fromB);
    expect(fromA!.text).toBe('{"first": true}\n');
    const [metadata] = await gcs.bucket(planBucket).file(object).getMetadata();
    expect(fromA!.generation).toBe(String(metadata.generation));
    expect(a!.location).toBe(`gs://${planBucket}/${object}`);
  });
});
