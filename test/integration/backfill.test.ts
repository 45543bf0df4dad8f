import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors.js';
import { runBackfillCommand } from '../../src/main/backfill-command.js';
import { verifyCommand } from '../../src/main/verify-command.js';
import type { SourceObject } from '../../src/model.js';
import type { Source } from '../../src/replicate/ports.js';
import { adminS3, gcsClient, headS3, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/**
 * Backfill and verify against the local stack, counting S3 writes by reading
 * S3 back: the destination bucket is versioned, so every write leaves a
 * version, and a key's versions before and after a run say exactly whether
 * the run wrote it.
 */

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let bucket: string;
let dir: string;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  bucket = `gcs2s3-bf-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-backfill-'));
});

afterAll(async () => {
  if (s3 !== undefined && bucket !== undefined) {
    const versions = await listVersions('').catch(() => []);
    for (let i = 0; i < versions.length; i += 1000) {
      const batch = versions.slice(i, i + 1000).map((v) => ({ Key: v.key, VersionId: v.versionId }));
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch } })).catch(() => {});
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
    s3.destroy();
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Version {
  key: string;
  versionId: string;
  etag: string;
  lastModified: number;
}

/** Every version of every key under `prefix`: one per write. */
async function listVersions(prefix: string): Promise<Version[]> {
  const out: Version[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, etag: v.ETag!, lastModified: v.LastModified!.getTime() });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Live GCS generations under a prefix, by name. */
async function gcsGenerations(prefix: string): Promise<Map<string, string>> {
  const [files] = await gcs.bucket(env.GCS_BUCKET!).getFiles({ prefix });
  return new Map(files.map((f) => [f.name, String(f.metadata.generation)]));
}

/**
 * Seeds fake-gcs-server with simple media uploads over fetch: about twice
 * the rate of the storage library's multipart uploads on the emulator, and
 * seeding is most of this file's running time.
 */
async function uploadAll(names: string[], body: (name: string) => string): Promise<Map<string, Uploaded>> {
  const limit = pLimit(32);
  const uploaded = await Promise.all(names.map((name) => limit(() => uploadMedia(name, body(name)))));
  return new Map(uploaded.map((u) => [u.name, u]));
}

interface Uploaded {
  name: string;
  generation: string;
  crc32c: string;
  body: string;
}

async function uploadMedia(name: string, body: string): Promise<Uploaded> {
  const url = `${env.STORAGE_EMULATOR_HOST}/upload/storage/v1/b/${env.GCS_BUCKET}/o?uploadType=media&name=${encodeURIComponent(name)}`;
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  if (!response.ok) throw new Error(`upload of ${name} failed: HTTP ${response.status} ${await response.text()}`);
  const resource = (await response.json()) as { generation: string; crc32c: string };
  return { name, generation: String(resource.generation), crc32c: resource.crc32c, body };
}

/** Writes the S3 copy gcs2s3 makes of one generation: same bytes, provenance metadata. */
async function putCopy(keyPrefix: string, object: Uploaded): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: keyPrefix + object.name,
      Body: object.body,
      ContentType: 'text/plain',
      Metadata: { 'gcs-bucket': env.GCS_BUCKET!, 'gcs-generation': object.generation, 'gcs-crc32c': object.crc32c },
    }),
  );
}

function commandEnv(keyPrefix: string): Record<string, string> {
  // JSON logs whatever this process's stderr is: the test reads them.
  return { ...stackEnv(), S3_BUCKET: bucket, S3_KEY_PREFIX: keyPrefix, LOG_FORMAT: 'json' };
}

async function runCommand(name: 'backfill' | 'verify', args: string[], keyPrefix: string, wrapSource?: (source: Source) => Source) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = { args, env: commandEnv(keyPrefix), stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), signal: new AbortController().signal };
  const started = Date.now();
  const code =
    name === 'backfill'
      ? await runBackfillCommand(ctx, wrapSource === undefined ? {} : { wrapDeps: (deps) => ({ ...deps, source: wrapSource(deps.source) }) })
      : await verifyCommand.run(ctx);
  return { code, stdout: out.join(''), stderr: err.join(''), started };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('backfill on the local stack', () => {
  it('2,000 objects, 300 current, 100 stale, 50 extra: verify names the sets, backfill writes exactly the 1,700, verify then passes', async () => {
    const prefix = uniquePrefix('bf');
    const keyPrefix = uniquePrefix('bf-s3');
    const names = Array.from({ length: 2000 }, (_, i) => `${prefix}d${i % 7}/obj-${String(i).padStart(4, '0')}`);
    const current = names.filter((_, i) => i % 20 < 3); // 300
    const stale = names.filter((_, i) => i % 20 === 3); // 100
    const missing = names.filter((_, i) => i % 20 > 3); // 1,600
    const extras = Array.from({ length: 50 }, (_, j) => `${prefix}d${j % 7}/obj-${String(j * 40).padStart(4, '0')}-extra`);
    expect([current.length, stale.length, missing.length]).toEqual([300, 100, 1600]);

    const v1 = await uploadAll(names, (n) => `v1 of ${n}`);
    // The 400 copied earlier, as gcs2s3 writes them (bytes and provenance; the copy path itself has its own tests).
    const limit = pLimit(16);
    await Promise.all([...current, ...stale].map((name) => limit(() => putCopy(keyPrefix, v1.get(name)!))));
    // Then GCS moves on for 100 of them: half keep their size (only the time tells), half change it.
    await uploadAll(stale, (n) => (stale.indexOf(n) % 2 === 0 ? `v2 of ${n}` : `v2 of ${n}, longer`));
    await Promise.all(extras.map((name) => limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyPrefix + name, Body: 'extra' })))));

    const verifyBefore = await runCommand('verify', [`gs://${env.GCS_BUCKET}/${prefix}`, '--report', join(dir, 'verify-before.json')], keyPrefix);
    expect(verifyBefore.code, verifyBefore.stderr).toBe(1);
    const before = readJson(join(dir, 'verify-before.json'));
    expect(before.counts).toEqual({ inSync: 300, missingInS3: 1600, staleInS3: 100, mismatched: 0, extraInS3: 50, errors: 0 });
    expect(before.missingInS3.map((d: { object: string }) => d.object)).toEqual(missing.map((n) => `gs://${env.GCS_BUCKET}/${n}`).sort());
    expect(before.staleInS3.map((d: { key: string }) => d.key).sort()).toEqual(stale.map((n) => keyPrefix + n).sort());
    expect(before.extraInS3.map((d: { key: string }) => d.key).sort()).toEqual(extras.map((n) => keyPrefix + n).sort());

    const versionsBefore = await listVersions(keyPrefix);
    expect(versionsBefore).toHaveLength(450);

    const backfill = await runCommand('backfill', [`gs://${env.GCS_BUCKET}/${prefix}`, '--concurrency', '16', '--report', join(dir, 'backfill.json')], keyPrefix);
    expect(backfill.code, backfill.stderr).toBe(0);

    // Count the writes in S3 itself: versions that were not there before.
    const seen = new Set(versionsBefore.map((v) => v.versionId));
    const versionsAfter = await listVersions(keyPrefix);
    const written = versionsAfter.filter((v) => !seen.has(v.versionId));
    expect(written).toHaveLength(1700);
    expect(written.map((v) => v.key).sort()).toEqual([...missing, ...stale].map((n) => keyPrefix + n).sort());
    expect(written.every((v) => v.lastModified >= backfill.started - 1000)).toBe(true);
    // The 300 current copies and the 50 extras are untouched: same single version, ETag and LastModified.
    const untouched = new Set([...current, ...extras].map((n) => keyPrefix + n));
    const latestBefore = new Map(versionsBefore.map((v) => [v.key, v]));
    for (const v of versionsAfter.filter((x) => untouched.has(x.key))) expect(v).toEqual(latestBefore.get(v.key));
    // Every written object carries the live GCS generation.
    const generations = await gcsGenerations(prefix);
    const heads = await Promise.all([...missing, ...stale].map((n) => limit(async () => [n, (await headS3(s3, bucket, keyPrefix + n))?.Metadata?.['gcs-generation']] as const)));
    expect(heads.filter(([n, g]) => g !== generations.get(n))).toEqual([]);

    const report = readJson(join(dir, 'backfill.json'));
    expect(report).toMatchObject({
      command: 'backfill',
      complete: true,
      copied: 1700,
      failed: 0,
      failures: [],
      skippedByReason: { current: 300 },
      extraInS3: 50,
      planned: { objects: 1700, byReason: { missing: 1600, 'stale-size': 50, 'stale-time': 50 } },
    });
    expect(report.bytes).toBe([...missing, ...stale].reduce((sum, n) => sum + (stale.includes(n) ? (stale.indexOf(n) % 2 === 0 ? `v2 of ${n}` : `v2 of ${n}, longer`) : `v1 of ${n}`).length, 0));
    expect(report.durationMs).toBeGreaterThan(0);
    // One JSON log line (stderr) per object outcome.
    const copiedLines = backfill.stderr.split('\n').filter((l) => l.includes('"outcome":"copied"'));
    expect(copiedLines).toHaveLength(1700);

    const verifyAfter = await runCommand('verify', [`gs://${env.GCS_BUCKET}/${prefix}`, '--report', join(dir, 'verify-after.json')], keyPrefix);
    const after = readJson(join(dir, 'verify-after.json'));
    // The 50 extras stay (backfill never deletes), so verify still reports them; everything else is in sync.
    expect(after.counts).toEqual({ inSync: 2000, missingInS3: 0, staleInS3: 0, mismatched: 0, extraInS3: 50, errors: 0 });
    expect(verifyAfter.code).toBe(1);
    // Without the extras, S3 matches GCS exactly: exit 0.
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: extras.map((n) => ({ Key: keyPrefix + n })) } }));
    const verifyClean = await runCommand('verify', [`gs://${env.GCS_BUCKET}/${prefix}`], keyPrefix);
    expect(verifyClean.code, verifyClean.stderr).toBe(0);
  }, 420_000); // bound by fake-gcs-server: about 5,500 GCS requests at 25–150 per second depending on machine load

  it('one object whose read fails is reported and does not stop the rest: exit 1', async () => {
    const prefix = uniquePrefix('bf-fail');
    const keyPrefix = uniquePrefix('bf-fail-s3');
    const names = Array.from({ length: 40 }, (_, i) => `${prefix}obj-${String(i).padStart(2, '0')}`);
    const victim = names[17]!;
    await uploadAll(names, (n) => `bytes of ${n}`);
    const failingRead = (inner: Source): Source => ({
      stat: (ref, signal) => inner.stat(ref, signal),
      read: (object: SourceObject, signal) => {
        if (object.name !== victim) return inner.read(object, signal);
        return new Readable({
          read() {
            this.destroy(new TransientError(`GCS read gs://${object.bucket}/${object.name} failed: connection reset (injected)`, { code: 'ECONNRESET' }));
          },
        });
      },
    });
    const run = await runCommand('backfill', [`gs://${env.GCS_BUCKET}/${prefix}`, '--concurrency', '4', '--report', join(dir, 'fail.json')], keyPrefix, failingRead);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`failed: gs://${env.GCS_BUCKET}/${victim}#`);
    const report = readJson(join(dir, 'fail.json'));
    expect(report).toMatchObject({ copied: 39, failed: 1, complete: true });
    expect(report.failures).toEqual([expect.objectContaining({ object: `gs://${env.GCS_BUCKET}/${victim}`, key: keyPrefix + victim, retryable: true, code: 'ECONNRESET' })]);
    const keys = (await listVersions(keyPrefix)).map((v) => v.key).sort();
    expect(keys).toEqual(names.filter((n) => n !== victim).map((n) => keyPrefix + n));
    // Nothing half-written is left for the failed one, and a rerun copies just that object.
    const rerun = await runCommand('backfill', [`gs://${env.GCS_BUCKET}/${prefix}`, '--report', join(dir, 'fail-rerun.json')], keyPrefix);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(readJson(join(dir, 'fail-rerun.json'))).toMatchObject({ copied: 1, skippedByReason: { current: 39 } });
  });
});
