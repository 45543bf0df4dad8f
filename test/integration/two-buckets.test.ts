import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminS3, deleteS3Prefix, gcsClient, readS3, ROOT, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

const run = promisify(execFile);
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
const buckets: string[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  // Two source buckets of their own in fake-gcs-server (no notifications: the CLI copies).
  const tag = randomBytes(4).toString('hex');
  for (const label of ['a', 'b']) {
    const name = `bucket-${label}-${tag}`;
    await gcs.createBucket(name);
    buckets.push(name);
  }
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteS3Prefix(s3, env.S3_BUCKET!, prefix);
  s3?.destroy();
});

async function upload(bucket: string, name: string, text: string): Promise<void> {
  await gcs.bucket(bucket).file(name).save(Buffer.from(text), { resumable: false, validation: false, metadata: { contentType: 'text/plain' } });
}

/** `gcs2s3 copy gs://BUCKET/NAME` as a user runs it: its exit status and stderr. */
async function copy(bucket: string, name: string, extra: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv = { ...process.env, ...stackEnv(), LOG_FORMAT: 'json', ...extra };
  try {
    const out = await run('node', ['--import', 'tsx', 'src/cli.ts', 'copy', `gs://${bucket}/${name}`], { cwd: ROOT, env: childEnv });
    return { code: 0, ...out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('two source buckets, one object name', () => {
  it('with default settings, bucket-b never replaces bucket-a\'s bytes: its copy is refused (ForeignBucket)', async () => {
    const [a, b] = buckets as [string, string];
    const prefix = uniquePrefix('two-buckets');
    prefixes.push(prefix);
    await upload(a, 'same/name.txt', 'bytes of bucket-a');
    await upload(b, 'same/name.txt', 'bytes of bucket-b');
    const first = await copy(a, 'same/name.txt', { S3_KEY_PREFIX: prefix });
    expect(first.code).toBe(0);
    const second = await copy(b, 'same/name.txt', { S3_KEY_PREFIX: prefix });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/"code":"ForeignBucket"/);
    expect(second.stderr).toContain(`holds gs://${a}/same/name.txt`);
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, `${prefix}same/name.txt`);
    expect(bytes.toString()).toBe('bytes of bucket-a');
    expect(out.Metadata?.['gcs-bucket']).toBe(a);
  });

  it('with {bucket} in S3_KEY_PREFIX each bucket lands at its own key', async () => {
    const [a, b] = buckets as [string, string];
    const prefix = uniquePrefix('two-buckets-keyed');
    prefixes.push(prefix);
    const settings = { S3_KEY_PREFIX: `${prefix}{bucket}/`, SOURCE_BUCKETS: `${a},${b}` };
    for (const bucket of [a, b]) {
      await upload(bucket, 'same/name.txt', `bytes of ${bucket}`);
      const result = await copy(bucket, 'same/name.txt', settings);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`s3://${env.S3_BUCKET}/${prefix}${bucket}/same/name.txt`);
    }
    for (const bucket of [a, b]) {
      const { bytes } = await readS3(s3, env.S3_BUCKET!, `${prefix}${bucket}/same/name.txt`);
      expect(bytes.toString()).toBe(`bytes of ${bucket}`);
    }
  });

  it('several SOURCE_BUCKETS without {bucket} is a configuration error (exit 2, naming S3_KEY_PREFIX)', async () => {
    const [a, b] = buckets as [string, string];
    const result = await copy(a, 'same/name.txt', { S3_KEY_PREFIX: 'x/', SOURCE_BUCKETS: `${a},${b}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gcs2s3 copy: S3_KEY_PREFIX: must contain \{bucket\} when SOURCE_BUCKETS lists several buckets/m);
  });
});
