import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { runBackfillCommand } from '../../src/main/backfill-command.js';
import { buildRuntime } from '../../src/main/runtime.js';
import type { ObjectEvent } from '../../src/model.js';
import { replicateObject } from '../../src/replicate/replicate-object.js';
import { adminS3, gcsClient, headS3, readS3, stackConfig, stackEnv, uniquePrefix, uploadToGcs, useStackEnv } from '../support/stack.js';

/**
 * Storage class, SSE and the bandwidth limit against MinIO, read back with
 * HEAD/GET. MinIO accepts the classes STANDARD and REDUCED_REDUNDANCY (others:
 * InvalidStorageClass) and, with the stack's static KMS key, SSE-S3 and
 * SSE-KMS; its SSEKMSKeyId reads back as `arn:aws:kms:NAME` (DESIGN §6).
 */

const MiB = 1024 * 1024;
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let prefix: string;
let dir: string;

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('dest');
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-dest-'));
});

afterAll(() => {
  s3?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Copies (or updates) one object with the given settings, through the same runtime the commands build. */
async function replicate(kind: ObjectEvent['kind'], name: string, generation: string, settings: Record<string, string>) {
  const runtime = buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix, PART_SIZE_MIB: '5', ...settings }), silentLogger);
  try {
    return await replicateObject({ kind, ref: { bucket: env.GCS_BUCKET!, name, generation } } as ObjectEvent, runtime.deps, new AbortController().signal);
  } finally {
    runtime.close();
  }
}

const sizes = [
  ['one PutObject', 200 * 1024],
  ['a multipart upload', 12 * MiB],
] as const;

describe('S3_STORAGE_CLASS on the local stack', () => {
  it.each(sizes)('%s lands in the class, and an in-place metadata update keeps it', async (label, size) => {
    const name = `class/${label.replace(/ /g, '-')}.bin`;
    const bytes = randomBytes(size);
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes, { contentType: 'application/octet-stream' });
    const settings = { S3_STORAGE_CLASS: 'REDUCED_REDUNDANCY' };
    expect(await replicate('finalize', name, generation, settings)).toMatchObject({ status: 'copied' });
    expect((await headS3(s3, env.S3_BUCKET!, prefix + name))?.StorageClass).toBe('REDUCED_REDUNDANCY');

    await gcs.bucket(env.GCS_BUCKET!).file(name).setMetadata({ contentType: 'text/csv', metadata: { tier: 'rr' } });
    expect(await replicate('metadataUpdate', name, generation, settings)).toMatchObject({ status: 'updated' });
    const head = await headS3(s3, env.S3_BUCKET!, prefix + name);
    expect(head).toMatchObject({ StorageClass: 'REDUCED_REDUNDANCY', ContentType: 'text/csv', Metadata: expect.objectContaining({ tier: 'rr', 'gcs-generation': generation }) });
    const { bytes: got } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(got.equals(bytes)).toBe(true);
  });

  it('a class the endpoint does not offer fails the copy, naming it (the header is sent, not dropped)', async () => {
    const name = 'class/refused.bin';
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, Buffer.from('x'));
    const outcome = await replicate('finalize', name, generation, { S3_STORAGE_CLASS: 'DEEP_ARCHIVE' });
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.status === 'failed' && outcome.error.message).toMatch(/InvalidStorageClass/);
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
  });
});

describe('S3_SSE on the local stack (MinIO built-in KMS, static test key)', () => {
  it.each(sizes)('SSE-KMS with the configured key: %s, then its in-place metadata update, read back encrypted with that key', async (label, size) => {
    const name = `kms/${label.replace(/ /g, '-')}.bin`;
    const bytes = randomBytes(size);
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes);
    const settings = { S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: env.MINIO_KMS_KEY_NAME!, S3_STORAGE_CLASS: 'REDUCED_REDUNDANCY' };
    expect(await replicate('finalize', name, generation, settings)).toMatchObject({ status: 'copied' });
    const keyArn = `arn:aws:kms:${env.MINIO_KMS_KEY_NAME}`;
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });

    await gcs.bucket(env.GCS_BUCKET!).file(name).setMetadata({ metadata: { state: 'encrypted' } });
    expect(await replicate('metadataUpdate', name, generation, settings)).toMatchObject({ status: 'updated' });
    const head = await headS3(s3, env.S3_BUCKET!, prefix + name);
    expect(head).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn, StorageClass: 'REDUCED_REDUNDANCY', Metadata: expect.objectContaining({ state: 'encrypted' }) });
    const { bytes: got } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(got.equals(bytes)).toBe(true);
  });

  it('SSE-S3 (AES256)', async () => {
    const name = 'sse-s3/object.bin';
    const bytes = randomBytes(1000);
    const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes);
    expect(await replicate('finalize', name, generation, { S3_SSE: 'AES256' })).toMatchObject({ status: 'copied' });
    expect((await headS3(s3, env.S3_BUCKET!, prefix + name))?.ServerSideEncryption).toBe('AES256');
    expect((await readS3(s3, env.S3_BUCKET!, prefix + name)).bytes.equals(bytes)).toBe(true);
  });
});

describe('backfill --bwlimit on the local stack', () => {
  it('48 MiB under --bwlimit 4M: the run averages within 10% of 4 MiB/s, and progress shows the current rate', async () => {
    const bwPrefix = uniquePrefix('bw');
    const objects = 12;
    const size = 4 * MiB;
    const blobs = new Map<string, Buffer>();
    for (let i = 0; i < objects; i++) {
      const name = `${bwPrefix}obj-${String(i).padStart(2, '0')}.bin`;
      blobs.set(name, randomBytes(size));
      await uploadToGcs(gcs, env.GCS_BUCKET!, name, blobs.get(name)!);
    }
    const err: string[] = [];
    const report = join(dir, 'bw.json');
    const code = await runBackfillCommand({
      args: [`gs://${env.GCS_BUCKET}/${bwPrefix}`, '--bwlimit', '4M', '--concurrency', '4', '--report', report],
      env: { ...stackEnv(), S3_KEY_PREFIX: prefix, LOG_FORMAT: 'json', PART_SIZE_MIB: '5' },
      stdout: () => {},
      stderr: (t: string) => void err.push(t),
      signal: new AbortController().signal,
    });
    expect(code, err.join('')).toBe(0);
    const summary = JSON.parse(readFileSync(report, 'utf8'));
    expect(summary).toMatchObject({ copied: objects, bytes: objects * size, failed: 0 });
    const rate = summary.bytes / (summary.durationMs / 1000);
    console.log(`backfill --bwlimit 4M: ${(summary.bytes / MiB).toFixed(0)} MiB in ${(summary.durationMs / 1000).toFixed(2)} s = ${(rate / MiB).toFixed(3)} MiB/s`);
    expect(rate / (4 * MiB)).toBeGreaterThan(0.9);
    expect(rate / (4 * MiB)).toBeLessThan(1.1);

    // The JSON progress line (every 10 s) carries the limit and the rate of the last seconds.
    const progress = err
      .join('')
      .split('\n')
      .filter((l) => l.includes('"progress"'))
      .map((l) => JSON.parse(l).progress);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ limitBytesPerSecond: 4 * MiB });
    expect(progress[0].currentBytesPerSecond / (4 * MiB)).toBeGreaterThan(0.5);
    expect(progress[0].currentBytesPerSecond / (4 * MiB)).toBeLessThan(1.5);

    for (const [name, bytes] of blobs) expect((await readS3(s3, env.S3_BUCKET!, prefix + name)).bytes.equals(bytes)).toBe(true);
  }, 120_000);
});
