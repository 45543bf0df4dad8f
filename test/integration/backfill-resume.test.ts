import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inRange, type KeyRange } from '../../src/backfill/key-range.js';
import { verifyCommand } from '../../src/main/verify-command.js';
import { startCli, stopAll } from '../support/processes.js';
import { adminS3, stackEnv, deleteVersionedBucket, listObjectVersions, seedNamedObjects, uniquePrefix, useStackEnv, type ObjectVersion } from '../support/stack.js';

/**
 * Backfill as Cloud Run Jobs runs it: a separate process, killed part-way
 * and restarted, or split into tasks. Writes are counted in S3 itself: the
 * destination bucket is versioned, so a key written twice has two versions.
 * Both tests read the same GCS objects (GCS is only read) into their own
 * S3 key prefix.
 */

const COUNT = 300;
let env: Record<string, string>;
let s3: S3Client;
let bucket: string;
let dir: string;
let prefix: string;
let names: string[];

beforeAll(async () => {
  env = useStackEnv();
  s3 = adminS3();
  bucket = `gcs2s3-bfr-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-backfill-resume-'));
  prefix = uniquePrefix('bfr');
  names = Array.from({ length: COUNT }, (_, i) => `${prefix}part-${i % 5}/obj-${String(i).padStart(4, '0')}`);
  await seedNamedObjects(env, names);
});

afterAll(async () => {
  await stopAll();
  if (s3 !== undefined && bucket !== undefined) {
    await deleteVersionedBucket(s3, bucket);
    s3.destroy();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Version = ObjectVersion;

const listVersions = (keyPrefix: string): Promise<Version[]> => listObjectVersions(s3, bucket, keyPrefix);

function childEnv(keyPrefix: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, ...stackEnv(), S3_BUCKET: bucket, S3_KEY_PREFIX: keyPrefix, ...extra };
}

/** Keys that were written more than once (two versions or more). */
function writtenTwice(versions: Version[]): string[] {
  const perKey = new Map<string, number>();
  for (const v of versions) perKey.set(v.key, (perKey.get(v.key) ?? 0) + 1);
  return [...perKey].filter(([, n]) => n > 1).map(([k]) => k);
}

async function verifyInSync(keyPrefix: string): Promise<number> {
  const err: string[] = [];
  const code = await verifyCommand.run({
    args: [`gs://${env.GCS_BUCKET}/${prefix}`],
    env: { ...stackEnv(), S3_BUCKET: bucket, S3_KEY_PREFIX: keyPrefix },
    stdout: () => {},
    stderr: (t) => void err.push(t),
    signal: new AbortController().signal,
  });
  if (code !== 0) throw new Error(`verify exited ${code}: ${err.join('')}`);
  return code;
}

const copiedObjects = (lines: Array<Record<string, unknown>>): string[] => lines.filter((l) => l.outcome === 'copied').map((l) => String(l.object));

describe('backfill across processes', () => {
  it('killed after about half the objects and run again, copies only the rest', async () => {
    const keyPrefix = uniquePrefix('bfr-kill');
    const url = `gs://${env.GCS_BUCKET}/${prefix}`;
    const first = startCli(['backfill', url, '--concurrency', '4'], childEnv(keyPrefix));
    try {
      await first.waitFor(() => copiedObjects(first.lines).length >= COUNT / 2, 90_000);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(await first.exited).toBeNull(); // killed, no exit code
    // A request the server had fully received may still be committing.
    await new Promise((r) => setTimeout(r, 1000));
    const afterKill = await listVersions(keyPrefix);
    expect(afterKill.length).toBeGreaterThanOrEqual(COUNT / 2);
    expect(afterKill.length).toBeLessThan(COUNT);

    const report = join(dir, 'resume.json');
    const second = startCli(['backfill', url, '--concurrency', '4', '--report', report], childEnv(keyPrefix));
    expect(await second.exited, second.stderr.join('')).toBe(0);

    const afterResume = await listVersions(keyPrefix);
    expect(afterResume).toHaveLength(COUNT);
    expect(writtenTwice(afterResume)).toEqual([]);
    // What the first run wrote is exactly as it left it.
    const firstRun = new Set(afterKill.map((v) => v.versionId));
    const secondRun = afterResume.filter((v) => !firstRun.has(v.versionId));
    expect(secondRun).toHaveLength(COUNT - afterKill.length);
    const secondRunKeys = new Set(secondRun.map((v) => v.key));
    expect(afterKill.filter((v) => secondRunKeys.has(v.key))).toEqual([]);
    expect(readJson(report)).toMatchObject({ copied: COUNT - afterKill.length, failed: 0, skippedByReason: { current: afterKill.length } });
    expect(copiedObjects(second.lines)).toHaveLength(COUNT - afterKill.length);
    await verifyInSync(keyPrefix);
  });

  it('three shards (CLOUD_RUN_TASK_COUNT=3) as three processes copy every object exactly once', async () => {
    const keyPrefix = uniquePrefix('bfr-shard');
    const url = `gs://${env.GCS_BUCKET}/${prefix}`;
    const tasks = [0, 1, 2].map((index) =>
      startCli(['backfill', url, '--concurrency', '4', '--report', join(dir, `shard-${index}.json`)], childEnv(keyPrefix, { CLOUD_RUN_TASK_INDEX: String(index), CLOUD_RUN_TASK_COUNT: '3' })),
    );
    const codes = await Promise.all(tasks.map((t) => t.exited));
    expect(codes, tasks.map((t) => t.stderr.join('')).join('\n')).toEqual([0, 0, 0]);

    const versions = await listVersions(keyPrefix);
    expect(versions).toHaveLength(COUNT);
    expect(writtenTwice(versions)).toEqual([]);
    expect(versions.map((v) => v.key).sort()).toEqual(names.map((n) => keyPrefix + n).sort());

    const reports = [0, 1, 2].map((i) => readJson(join(dir, `shard-${i}.json`)));
    expect(reports.reduce((sum, r) => sum + r.copied, 0)).toBe(COUNT);
    for (const [index, task] of tasks.entries()) {
      const ranges = (task.lines.find((l) => l.plan !== undefined)!.plan as { ranges: KeyRange[] }).ranges;
      const mine = names.filter((n) => ranges.some((range) => inRange(n, range)));
      expect(copiedObjects(task.lines).sort()).toEqual(mine.map((n) => `gs://${env.GCS_BUCKET}/${n}`).sort());
      // Each task lists only its own range.
      expect(reports[index]).toMatchObject({ shard: { index, count: 3, ranges }, copied: mine.length, failed: 0, listed: { gcs: mine.length, otherShards: 0 } });
    }
    await verifyInSync(keyPrefix);
  });
});

function readJson(file: string) {
  return JSON.parse(readFileSync(file, 'utf8'));
}
