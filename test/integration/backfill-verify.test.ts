import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfillCommand } from '../../src/main/backfill-command.js';
import { main } from '../../src/main/dispatch.js';
import { verifyCommand } from '../../src/main/verify-command.js';
import { adminS3, deleteS3Prefix, gcsClient, headS3, readS3, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/**
 * Names whose UTF-8 byte order differs from JavaScript's string order, plus
 * characters S3 must URL-encode in listings: if either lister or the merge
 * disagreed with the services' order, backfill would raise ListingOrderError
 * or verify would report these as missing and extra at once.
 * Not both "a" and "a/b": MinIO stores both but lists only "a" (its
 * on-disk layout makes them a file and a directory); real S3 lists both.
 */
const NAMES = ['a', 'a.b', 'a0/b', 'b c', 'b+c', 'p%20q', 'tab\there', 'Zeta', 'é', '\uE000private', '\uFFFDreplacement', '\u{1F600}emoji', '\u{1F600}\u{1F601}', '日本語/ファイル'];

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let dir: string;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-verify-'));
});

afterAll(async () => {
  for (const c of cleanups) await c().catch(() => {});
  s3?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function run(command: 'backfill' | 'verify', args: string[], keyPrefix: string) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = {
    args,
    env: { ...stackEnv(), S3_KEY_PREFIX: keyPrefix },
    stdout: (t: string) => void out.push(t),
    stderr: (t: string) => void err.push(t),
    signal: new AbortController().signal,
  };
  const code = command === 'backfill' ? await runBackfillCommand(ctx) : await verifyCommand.run(ctx);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('verify and backfill on the local stack: UTF-8 order, dry run, and every kind of difference', () => {
  it('agrees with GCS and S3 on listing order for hard names, then reports tampering precisely', async () => {
    const prefix = uniquePrefix('bfv');
    const keyPrefix = uniquePrefix('bfv-s3');
    const bucket = env.GCS_BUCKET!;
    cleanups.push(() => deleteS3Prefix(s3, env.S3_BUCKET!, keyPrefix));
    for (const name of NAMES) await gcs.bucket(bucket).file(prefix + name).save(Buffer.from(`bytes of ${name}`), { resumable: false });
    // Outside the prefix: must be ignored by both commands.
    await gcs.bucket(bucket).file(`${prefix.slice(0, -1)}-sibling/x`).save(Buffer.from('x'), { resumable: false });

    // Dry run: lists every object as missing, in UTF-8 order, copies nothing.
    const dry = await run('backfill', [`gs://${bucket}/${prefix}`, '--dry-run'], keyPrefix);
    expect(dry.code, dry.stderr).toBe(0);
    const sorted = [...NAMES].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(dry.stdout).toBe(sorted.map((n) => `gs://${bucket}/${prefix}${n}\tmissing\n`).join(''));
    expect(await headS3(s3, env.S3_BUCKET!, keyPrefix + prefix + 'a')).toBeUndefined();

    const before = await run('verify', [`gs://${bucket}/${prefix}`, '--report', join(dir, 'before.json')], keyPrefix);
    expect(before.code, before.stderr).toBe(1);
    const beforeReport = JSON.parse(readFileSync(join(dir, 'before.json'), 'utf8'));
    expect(beforeReport.missingInS3.map((d: { object: string }) => d.object)).toEqual(sorted.map((n) => `gs://${bucket}/${prefix}${n}`));

    const backfill = await run('backfill', [`gs://${bucket}/${prefix}`, '--concurrency', '4'], keyPrefix);
    expect(backfill.code, backfill.stderr).toBe(0);
    const inSync = await run('verify', [`gs://${bucket}/${prefix}`, '--report', join(dir, 'in-sync.json')], keyPrefix);
    expect(inSync.code, inSync.stdout + inSync.stderr).toBe(0);
    const inSyncReport = JSON.parse(readFileSync(join(dir, 'in-sync.json'), 'utf8'));
    expect(inSyncReport).toMatchObject({ inSync: true, counts: { inSync: NAMES.length, missingInS3: 0, staleInS3: 0, mismatched: 0, extraInS3: 0, errors: 0 } });
    // A second backfill finds everything current from the listings alone.
    const again = await run('backfill', [`gs://${bucket}/${prefix}`, '--report', join(dir, 'again.json')], keyPrefix);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'again.json'), 'utf8'))).toMatchObject({ copied: 0, planned: { objects: 0 }, skippedByReason: { current: NAMES.length } });

    // Tamper with S3 as other writers would.
    const key = (n: string) => keyPrefix + prefix + n;
    const S3_BUCKET = env.S3_BUCKET!;
    const [meta] = await gcs.bucket(bucket).file(prefix + 'a').getMetadata();
    // Same generation, other bytes and size.
    await s3.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: key('a'), Body: 'different', Metadata: { 'gcs-generation': String(meta.generation), 'gcs-crc32c': meta.crc32c!, 'gcs-bucket': bucket } }));
    // Same bytes, wrong crc32c in the provenance.
    await s3.send(new CopyObjectCommand({ Bucket: S3_BUCKET, Key: key('b c'), CopySource: `${S3_BUCKET}/${encodeURIComponent(key('b c'))}`, MetadataDirective: 'REPLACE', Metadata: { 'gcs-generation': String((await gcs.bucket(bucket).file(prefix + 'b c').getMetadata())[0].generation), 'gcs-crc32c': 'AAAAAA==' } }));
    // An older generation.
    await s3.send(new CopyObjectCommand({ Bucket: S3_BUCKET, Key: key('é'), CopySource: `${S3_BUCKET}/${encodeURIComponent(key('é'))}`, MetadataDirective: 'REPLACE', Metadata: { 'gcs-generation': '1' } }));
    // Not written by gcs2s3.
    await s3.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: key('\u{1F600}emoji'), Body: 'someone else' }));
    // Extra keys, one sorting among the emoji.
    await s3.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: key('\u{1F600}extra'), Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: key('zz-extra'), Body: 'x' }));
    // Missing.
    await gcs.bucket(bucket).file(prefix + 'new-in-gcs').save(Buffer.from('new'), { resumable: false });

    const after = await run('verify', [`gs://${bucket}/${prefix}`, '--report', join(dir, 'after.json')], keyPrefix);
    expect(after.code, after.stderr).toBe(1);
    const r = JSON.parse(readFileSync(join(dir, 'after.json'), 'utf8'));
    expect(r.counts).toEqual({ inSync: NAMES.length - 4, missingInS3: 1, staleInS3: 2, mismatched: 2, extraInS3: 2, errors: 0 });
    expect(r.missingInS3.map((d: { object: string }) => d.object)).toEqual([`gs://${bucket}/${prefix}new-in-gcs`]);
    expect(r.staleInS3.map((d: { key: string; s3Generation: string | null }) => [d.key, d.s3Generation])).toEqual([
      [key('é'), '1'],
      [key('\u{1F600}emoji'), null],
    ]);
    expect(r.mismatched.map((d: { key: string; mismatches: unknown }) => [d.key, d.mismatches])).toEqual([
      [key('a'), [{ field: 'size', gcs: `bytes of a`.length, s3: 'different'.length }]],
      [key('b c'), [{ field: 'crc32c', gcs: (await gcs.bucket(bucket).file(prefix + 'b c').getMetadata())[0].crc32c, s3: 'AAAAAA==' }]],
    ]);
    expect(r.extraInS3.map((d: { key: string }) => d.key)).toEqual([key('zz-extra'), key('\u{1F600}extra')]);
    // One JSON line per difference on stdout.
    const lines = after.stdout.trim().split('\n').map((l) => JSON.parse(l) as { difference?: string });
    expect(lines.filter((l) => l.difference !== undefined)).toHaveLength(7);

    // Backfill acts on what the listings show: the missing object and the two of another size. The one not written
    // by gcs2s3 is copied over; the one whose provenance claims this very generation is not copied again (a "stale"
    // guess costs a HEAD, never a copy of the bytes), but its headers, written by another tool, are set to GCS's in place. The crc32c and older-generation tampering keep size and a
    // later LastModified: the documented blind spot of listing-only planning, which verify (above) reports.
    const repair = await run('backfill', [`gs://${bucket}/${prefix}`, '--report', join(dir, 'repair.json')], keyPrefix);
    expect(repair.code, repair.stderr).toBe(0);
    const repairReport = JSON.parse(readFileSync(join(dir, 'repair.json'), 'utf8'));
    expect(repairReport).toMatchObject({
      copied: 2,
      planned: { objects: 3, byReason: { missing: 1, 'stale-size': 2, 'stale-time': 0 } },
      updated: 1,
      skippedByReason: { current: NAMES.length - 2 },
      extraInS3: 2,
    });
    expect((await headS3(s3, S3_BUCKET, key('\u{1F600}emoji')))?.Metadata?.['gcs-generation']).toBeDefined();
  });

  it('backfill takes headers and custom metadata from the listing: all of them land in S3, gzip bytes unchanged', async () => {
    const prefix = uniquePrefix('bfmeta');
    const keyPrefix = uniquePrefix('bfmeta-s3');
    const bucket = env.GCS_BUCKET!;
    cleanups.push(() => deleteS3Prefix(s3, env.S3_BUCKET!, keyPrefix));
    const gz = gzipSync(Buffer.from('listed '.repeat(1000)));
    await gcs.bucket(bucket).file(`${prefix}page.html`).save(gz, {
      resumable: false,
      gzip: false,
      validation: false,
      metadata: {
        contentType: 'text/html',
        contentEncoding: 'gzip',
        cacheControl: 'public, max-age=60',
        contentDisposition: 'inline',
        contentLanguage: 'fr',
        metadata: { owner: 'team-x', note: 'café' },
      },
    });
    const [meta] = await gcs.bucket(bucket).file(`${prefix}page.html`).getMetadata();
    const result = await run('backfill', [`gs://${bucket}/${prefix}`], keyPrefix);
    expect(result.code, result.stderr).toBe(0);
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, keyPrefix + prefix + 'page.html');
    expect(bytes.equals(gz)).toBe(true);
    expect(out).toMatchObject({ ContentType: 'text/html', ContentEncoding: 'gzip', CacheControl: 'public, max-age=60', ContentDisposition: 'inline', ContentLanguage: 'fr' });
    expect(out.Metadata).toMatchObject({ owner: 'team-x', 'gcs-generation': String(meta.generation), 'gcs-crc32c': meta.crc32c, 'gcs-bucket': bucket });
    expect(out.Metadata?.note).toMatch(/^=\?UTF-8\?/);
  });

  it('bad usage and configuration exit 2 naming the flag or variable', async () => {
    const run2 = async (argv: string[], extraEnv: Record<string, string> = {}) => {
      const err: string[] = [];
      const code = await main(argv, { env: { ...stackEnv(), ...extraEnv }, stdout: () => {}, stderr: (t) => void err.push(t), signal: new AbortController().signal });
      return { code, stderr: err.join('') };
    };
    expect(await run2(['backfill', 'gs://x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('gs:// URL') });
    expect(await run2(['backfill', `gs://${env.GCS_BUCKET}/p`, '--concurrency', '0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--concurrency') });
    expect(await run2(['verify', `gs://${env.GCS_BUCKET}/p`, '--dry-run'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--dry-run') });
    expect(await run2(['backfill', `gs://${env.GCS_BUCKET}/p`], { CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '3' })).toMatchObject({ code: 2, stderr: expect.stringContaining('CLOUD_RUN_TASK_INDEX') });
    expect(await run2(['verify', `gs://${env.GCS_BUCKET}/p`, '--report', '/nonexistent-dir/r.json'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--report') });
    expect(await run2(['backfill', `gs://${env.GCS_BUCKET}/p`], { AWS_ROLE_ARN: '' })).toMatchObject({ code: 2, stderr: expect.stringContaining('AWS_ROLE_ARN') });
  });
});
