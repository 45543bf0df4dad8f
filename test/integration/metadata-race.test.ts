import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { verifyCommand } from '../../src/main/verify-command.js';
import type { ObjectEvent, SourceObject } from '../../src/model.js';
import type { Source } from '../../src/replicate/ports.js';
import { replicateObject } from '../../src/replicate/replicate-object.js';
import { adminS3, deleteS3Prefix, gcsClient, headS3, stackConfig, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/*
 * fake-gcs-server v1.55.1 leaves `metageneration` at 1 when an object is
 * patched (real GCS bumps it): these tests patch through its API and read
 * the headers back, so they hold whichever way the metageneration goes.
 */
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let prefix: string;
let dir: string;

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('metadata-race');
  dir = mkdtempSync(join(tmpdir(), 'gcs2s3-metadata-'));
});

afterAll(async () => {
  await deleteS3Prefix(s3, env.S3_BUCKET!, prefix).catch(() => {});
  s3?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const signal = new AbortController().signal;
const runtimeFor = () => buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix }), silentLogger);
const event = (kind: 'finalize' | 'metadataUpdate', name: string, generation: string): ObjectEvent => ({ kind, ref: { bucket: env.GCS_BUCKET!, name, generation } }) as ObjectEvent;

async function upload(name: string): Promise<string> {
  const file = gcs.bucket(env.GCS_BUCKET!).file(name);
  await file.save(Buffer.from(`bytes of ${name}`), { resumable: false, validation: false, metadata: { contentType: 'text/plain', cacheControl: 'no-cache', metadata: { state: 'draft' } } });
  const [meta] = await file.getMetadata();
  return String(meta.generation);
}

async function patch(name: string): Promise<void> {
  await gcs.bucket(env.GCS_BUCKET!).file(name).setMetadata({ contentType: 'text/csv', cacheControl: 'public, max-age=60', metadata: { state: 'final' } });
}

async function expectPatchedInS3(name: string): Promise<void> {
  const head = await headS3(s3, env.S3_BUCKET!, prefix + name);
  expect({ contentType: head?.ContentType, cacheControl: head?.CacheControl, state: head?.Metadata?.state }).toEqual({ contentType: 'text/csv', cacheControl: 'public, max-age=60', state: 'final' });
  expect(head?.Metadata?.['gcs-metageneration']).toMatch(/^[1-9]\d*$/);
}

/** A Source whose first read waits until `before` has run: the metadata changes, and its event is handled, while the copy streams. */
function racingSource(inner: Source, before: () => Promise<void>): Source {
  let raced = false;
  return {
    stat: (ref, s) => inner.stat(ref, s),
    read(object: SourceObject, s: AbortSignal): Readable {
      if (raced) return inner.read(object, s);
      raced = true;
      const out = new PassThrough();
      before().then(
        () => inner.read(object, s).on('error', (err) => out.destroy(err)).pipe(out),
        (err: unknown) => out.destroy(err as Error),
      );
      return out;
    },
  };
}

describe('metadata changes are never lost to a race with the copy (local stack)', () => {
  it('an OBJECT_METADATA_UPDATE handled while the FINALIZE copy streams ends in S3', async () => {
    const name = `${prefix}race/while-streaming.txt`;
    const generation = await upload(name);
    const runtime = runtimeFor();
    try {
      let raced: unknown;
      const source = racingSource(runtime.deps.source, async () => {
        await patch(name);
        raced = await replicateObject(event('metadataUpdate', name, generation), runtime.deps, signal);
      });
      const copied = await replicateObject(event('finalize', name, generation), { ...runtime.deps, source }, signal);
      expect(raced).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
      expect(copied).toMatchObject({ status: 'copied', generation });
    } finally {
      runtime.close();
    }
    await expectPatchedInS3(name);
  });

  it('a copy of a generation already in S3 applies metadata changed since; verify sees the difference before and none after', async () => {
    const name = `${prefix}race/changed-since.txt`;
    const generation = await upload(name);
    const runtime = runtimeFor();
    try {
      expect(await replicateObject(event('finalize', name, generation), runtime.deps, signal)).toMatchObject({ status: 'copied' });
      await patch(name);
      const ctx = (report: string) => ({
        args: [`gs://${env.GCS_BUCKET}/${prefix}race/changed-since`, '--report', join(dir, report)],
        env: { ...stackEnv(), S3_KEY_PREFIX: prefix },
        stdout: () => {},
        stderr: () => {},
        signal,
      });
      expect(await verifyCommand.run(ctx('before.json'))).toBe(1);
      const before = JSON.parse(readFileSync(join(dir, 'before.json'), 'utf8'));
      expect(before.mismatched).toEqual([
        expect.objectContaining({
          key: prefix + name,
          mismatches: expect.arrayContaining([
            { field: 'contentType', gcs: 'text/csv', s3: 'text/plain' },
            { field: 'cacheControl', gcs: 'public, max-age=60', s3: 'no-cache' },
            { field: 'metadata', gcs: '{"state":"final"}', s3: '{"state":"draft"}' },
          ]),
        }),
      ]);
      expect(await replicateObject(event('finalize', name, generation), runtime.deps, signal)).toMatchObject({ status: 'updated', generation });
      await expectPatchedInS3(name);
      expect(await verifyCommand.run(ctx('after.json'))).toBe(0);
    } finally {
      runtime.close();
    }
  });
});
