import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import type { ObjectEvent, Outcome, SinkObject } from '../../src/model.js';
import type { OpenBody, PendingUpload, Sink, WriteCondition, WriteReport, WriteSpec } from '../../src/replicate/ports.js';
import { replicateObject, type ReplicateDeps } from '../../src/replicate/replicate-object.js';
import { adminS3, gcsClient, headS3, readS3, stackConfig, uniquePrefix, useStackEnv, uploadToGcs } from '../support/stack.js';

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let prefix: string;
const signal = new AbortController().signal;

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('conditions');
});

afterAll(() => {
  s3?.destroy();
});

function upload(name: string, bytes: Buffer, metadata: Record<string, unknown> = {}): Promise<string> {
  return uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes, metadata);
}

async function replicate(event: ObjectEvent, adapt: (deps: ReplicateDeps) => ReplicateDeps = (d) => d): Promise<Outcome> {
  const runtime = buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix }), silentLogger);
  try {
    return await replicateObject(event, adapt(runtime.deps), signal);
  } finally {
    runtime.close();
  }
}

/** Who failed, and how: S3's error name and status, or "accepted". */
async function result(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'accepted';
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.$metadata?.httpStatusCode} ${e.name}`;
  }
}

describe('CopyObject conditions on MinIO (measured: the design in replicate-object.ts rests on these)', () => {
  const Bucket = () => env.S3_BUCKET!;
  const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: Bucket(), Key, Body, Metadata: { v: '1' } }));
  const inPlace = (Key: string, conditions: Record<string, string>) =>
    s3.send(new CopyObjectCommand({ Bucket: Bucket(), Key, CopySource: `${Bucket()}/${Key}`, MetadataDirective: 'REPLACE', Metadata: { v: '2' }, ...conditions }));

  it('an in-place metadata copy keeps the ETag, and the same bytes written again have the same ETag', async () => {
    const Key = `${prefix}measured/etag`;
    const first = await put(Key, 'same bytes');
    await inPlace(Key, {});
    expect((await headS3(s3, Bucket(), Key))?.ETag).toBe(first.ETag);
    expect((await put(Key, 'same bytes')).ETag).toBe(first.ETag);
  });

  it("honours the source's CopySourceIfMatch: another ETag fails with 412", async () => {
    const Key = `${prefix}measured/source-if-match`;
    await put(Key, 'x');
    expect(await result(() => inPlace(Key, { CopySourceIfMatch: '"0123456789abcdef0123456789abcdef"' }))).toBe('412 PreconditionFailed');
    expect((await headS3(s3, Bucket(), Key))?.Metadata).toEqual({ v: '1' });
  });

  it("ignores the destination's If-Match and If-None-Match: the copy replaces the object anyway", async () => {
    const Key = `${prefix}measured/destination-if-match`;
    const { ETag } = await put(Key, 'x');
    expect(await result(() => inPlace(Key, { CopySourceIfMatch: ETag!, IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toBe('accepted');
    expect((await headS3(s3, Bucket(), Key))?.Metadata).toEqual({ v: '2' });
    await put(Key, 'x');
    expect(await result(() => inPlace(Key, { IfNoneMatch: '*' }))).toBe('accepted');
    expect((await s3.send(new HeadObjectCommand({ Bucket: Bucket(), Key }))).Metadata).toEqual({ v: '2' });
  });
});

/** Runs `race` after the core's HEAD and before its CopyObject: another worker's copy landing in between. */
class RaceBeforeUpdate implements Sink {
  constructor(
    private readonly inner: Sink,
    private readonly race: () => Promise<void>,
  ) {}

  head(key: string, s: AbortSignal): Promise<SinkObject | undefined> {
    return this.inner.head(key, s);
  }

  write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition, s: AbortSignal): Promise<WriteReport | void> {
    return this.inner.write(key, body, spec, condition, s);
  }

  isMultipart(size: number): boolean {
    return this.inner.isMultipart(size);
  }

  listUploads(key: string, s: AbortSignal): Promise<PendingUpload[]> {
    return this.inner.listUploads(key, s);
  }

  abortUploads(key: string, uploadIds: readonly string[], s: AbortSignal): Promise<number> {
    return this.inner.abortUploads(key, uploadIds, s);
  }

  async updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }, s: AbortSignal): Promise<void> {
    await this.race();
    return this.inner.updateMetadata(key, spec, condition, s);
  }

  remove(key: string, condition: { ifMatch: string }, s: AbortSignal): Promise<void> {
    return this.inner.remove(key, condition, s);
  }
}

describe('an in-place metadata update never leaves a newer generation replaced', () => {
  it.each([
    ['the same bytes (so the same ETag)', 'payload', 'payload'],
    ['other bytes', 'payload v1', 'payload v2'],
  ])('a newer generation with %s, copied between the update\'s HEAD and its CopyObject, ends in S3 with its own metadata', async (label, before, after) => {
    const name = `race/${label.replace(/\W+/g, '-')}.txt`;
    const key = prefix + name;
    const n = await upload(name, Buffer.from(before), { contentType: 'text/plain' });
    expect(await replicate({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation: n } })).toMatchObject({ status: 'copied' });
    await gcs.bucket(env.GCS_BUCKET!).file(name).setMetadata({ contentType: 'text/csv' });

    let m: string | undefined;
    const outcome = await replicate({ kind: 'metadataUpdate', ref: { bucket: env.GCS_BUCKET!, name, generation: n } }, (deps) => ({
      ...deps,
      sink: new RaceBeforeUpdate(deps.sink, async () => {
        m = await upload(name, Buffer.from(after), { contentType: 'application/json' });
        expect(await replicate({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation: m } })).toMatchObject({ status: 'copied' });
      }),
    }));
    expect(outcome.status).not.toBe('failed');
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, key);
    expect({ generation: out.Metadata?.['gcs-generation'], contentType: out.ContentType, bytes: bytes.toString() }).toEqual({ generation: m, contentType: 'application/json', bytes: after });
  });
});
