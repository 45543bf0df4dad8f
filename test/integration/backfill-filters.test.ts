import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main/dispatch.js';
import { adminS3, deleteS3Prefix, gcsClient, listS3Keys, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/**
 * SOURCE_BUCKETS / INCLUDE_PREFIXES / EXCLUDE_PREFIXES on the commands that
 * walk a prefix, and on copy, through the command line as a user runs it.
 * What was written is read back from S3's own listing.
 */

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-filters-'));
});

afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  s3?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function gcs2s3(argv: string[], extraEnv: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    env: { ...stackEnv(), ...extraEnv },
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    signal: new AbortController().signal,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('filters on backfill, verify and copy (local stack)', () => {
  it('backfill skips excluded prefixes, verify does not call them missing, flags replace the variables', async () => {
    const bucket = env.GCS_BUCKET!;
    const prefix = uniquePrefix('filters');
    const keyPrefix = uniquePrefix('filters-s3');
    cleanups.push(() => deleteS3Prefix(s3, env.S3_BUCKET!, keyPrefix));
    const kept = ['keep/a.txt', 'keep/b.txt', 'logs/2024/c.log', 'tmpfile.txt'].map((n) => prefix + n);
    const excluded = ['tmp/x.bin', 'tmp/deep/y.bin', 'cache/z.json'].map((n) => prefix + n);
    for (const name of [...kept, ...excluded]) await gcs.bucket(bucket).file(name).save(Buffer.from(`bytes of ${name}`), { resumable: false });
    const filters = { S3_KEY_PREFIX: keyPrefix, EXCLUDE_PREFIXES: `${prefix}tmp/,${prefix}cache/` };
    const url = `gs://${bucket}/${prefix}`;
    const s3Names = async (): Promise<string[]> => (await listS3Keys(s3, env.S3_BUCKET!, keyPrefix)).map((k) => k.slice(keyPrefix.length)).sort();

    // 1. Backfill under EXCLUDE_PREFIXES: S3 lists exactly the kept objects.
    const backfill = await gcs2s3(['backfill', url, '--report', join(dir, 'backfill.json')], filters);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(await s3Names()).toEqual([...kept].sort());
    expect(readJson(join(dir, 'backfill.json'))).toMatchObject({ copied: kept.length, failed: 0, listed: { gcs: kept.length + excluded.length, excluded: excluded.length } });
    expect(backfill.stderr).toMatch(/copied 4 objects .*, excluded 3,/);

    // 2. Verify under the same filters: in sync, the excluded objects neither missing nor checked.
    const verify = await gcs2s3(['verify', url, '--report', join(dir, 'verify.json')], filters);
    expect(verify.code, verify.stderr).toBe(0);
    expect(readJson(join(dir, 'verify.json'))).toMatchObject({ inSync: true, counts: { inSync: kept.length, missingInS3: 0, extraInS3: 0 }, listed: { excluded: excluded.length } });

    // 3. Without the filters the same objects are missing: step 2 passed because of them, not by accident.
    const unfiltered = await gcs2s3(['verify', url, '--report', join(dir, 'unfiltered.json')], { S3_KEY_PREFIX: keyPrefix });
    expect(unfiltered.code, unfiltered.stderr).toBe(1);
    expect(readJson(join(dir, 'unfiltered.json')).missingInS3.map((d: { object: string }) => d.object)).toEqual([...excluded].sort().map((n) => `gs://${bucket}/${n}`));

    // 4. --exclude '' lifts EXCLUDE_PREFIXES and --include narrows to tmp/: only the tmp/ objects are copied now.
    const tmpOnly = await gcs2s3(['backfill', url, '--include', `${prefix}tmp/`, '--exclude', ''], filters);
    expect(tmpOnly.code, tmpOnly.stderr).toBe(0);
    expect(tmpOnly.stderr).toMatch(/copied 2 objects/);
    expect(await s3Names()).toEqual([...kept, ...excluded.filter((n) => n.includes('/tmp/'))].sort());

    // 5. A prefix the filters cover entirely, and a copy of an excluded object: exit 3, nothing written.
    const covered = await gcs2s3(['backfill', `${url}cache/`], filters);
    expect(covered).toMatchObject({ code: 3, stdout: '' });
    expect(covered.stderr).toMatch(/nothing to backfill: every name under ".*cache\/" matches the excluded prefix/);
    const copy = await gcs2s3(['copy', `gs://${bucket}/${prefix}cache/z.json`], filters);
    expect(copy).toMatchObject({ code: 3, stdout: '' });
    expect(copy.stderr).toMatch(/not copied: object name ".*cache\/z\.json" matches EXCLUDE_PREFIXES/);
    const foreign = await gcs2s3(['copy', `gs://${bucket}/${prefix}keep/a.txt`], { ...filters, SOURCE_BUCKETS: 'some-other-bucket' });
    expect(foreign.code).toBe(3);
    expect(foreign.stderr).toMatch(/is not in SOURCE_BUCKETS/);
    expect(await s3Names()).not.toContain(`${prefix}cache/z.json`);
  });
});
