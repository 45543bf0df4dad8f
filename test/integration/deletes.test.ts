import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import type { ObjectEvent, ObjectRef, Outcome, SourceObject } from '../../src/model.js';
import type { Source } from '../../src/replicate/ports.js';
import { replicateObject, type ReplicateDeps } from '../../src/replicate/replicate-object.js';
import { adminS3, gcsClient, headS3, stackConfig, uniquePrefix, useStackEnv } from '../support/stack.js';

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let prefix: string;
/** A bucket with object versioning: deleting the live object keeps its generation as noncurrent. */
let bucket: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('deletes');
  bucket = `gcs2s3-versioned-${randomUUID().slice(0, 8)}`;
  await gcs.createBucket(bucket, { versioning: { enabled: true } });
});

afterAll(() => {
  s3?.destroy();
});

async function upload(name: string, bytes: Buffer): Promise<string> {
  const file = gcs.bucket(bucket).file(name);
  await file.save(bytes, { resumable: false, gzip: false, validation: false });
  const [meta] = await file.getMetadata();
  return String(meta.generation);
}

/** Deletes the live object; in this bucket its generation stays, noncurrent and readable. */
async function deleteLive(name: string, generation: string): Promise<void> {
  await gcs.bucket(bucket).file(name).delete();
  const [live] = await gcs.bucket(bucket).file(name).exists();
  const [kept] = await gcs.bucket(bucket).file(name, { generation }).exists();
  // What makes the bug possible: GCS (and fake-gcs-server with versioning) still serves the generation.
  expect({ live, kept }).toEqual({ live: false, kept: true });
}

const ref = (name: string, generation: string): ObjectRef & { generation: string } => ({ bucket, name, generation });

async function replicate(event: ObjectEvent, overrides: Record<string, string>, adapt: (deps: ReplicateDeps) => ReplicateDeps = (d) => d): Promise<Outcome> {
  const runtime = buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix, ...overrides }), silentLogger);
  try {
    return await replicateObject(event, adapt(runtime.deps), signal);
  } finally {
    runtime.close();
  }
}

/** A Source whose read runs `beforeEnd` after the last byte and before the stream ends: before the S3 write completes. */
class BeforeEnd implements Source {
  constructor(
    private readonly inner: Source,
    private readonly beforeEnd: () => Promise<void>,
  ) {}

  stat(r: ObjectRef, s: AbortSignal): Promise<SourceObject | undefined> {
    return this.inner.stat(r, s);
  }

  read(object: SourceObject, s: AbortSignal): Readable {
    const hook = this.beforeEnd;
    const out = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        callback(null, chunk);
      },
      flush(callback) {
        hook().then(() => callback(), callback);
      },
    });
    const raw = this.inner.read(object, s);
    raw.on('error', (err) => out.destroy(err));
    out.on('close', () => raw.destroy());
    return raw.pipe(out);
  }
}

describe('deleted objects never come back (versioned source bucket)', () => {
  it.each(['true', 'false'])('FINALIZE(N) failed once, the object was deleted, ARCHIVE(N) found nothing: the retry copies nothing (REPLICATE_DELETES=%s)', async (replicateDeletes) => {
    const name = `retried-${replicateDeletes}.txt`;
    const generation = await upload(name, Buffer.from('deleted soon'));
    // The first attempt meets a GCS blip.
    const failed = await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: replicateDeletes }, (deps) => ({
      ...deps,
      source: {
        stat: async () => {
          throw new TransientError('GCS get metadata failed: 503 backendError', { code: 'backendError' });
        },
        read: (object, s) => deps.source.read(object, s),
      },
    }));
    expect(failed).toMatchObject({ status: 'failed', retryable: true });
    await deleteLive(name, generation);
    if (replicateDeletes === 'true') {
      expect(await replicate({ kind: 'delete', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' })).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    }
    const retry = await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: replicateDeletes });
    expect(retry).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
  });

  it('deleted while the copy streams, its ARCHIVE handled meanwhile (nothing in S3 yet): the copy removes what it wrote', async () => {
    const name = 'mid-copy.txt';
    const generation = await upload(name, Buffer.from('deleted while copied'));
    let racingDelete: Outcome | undefined;
    const outcome = await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' }, (deps) => ({
      ...deps,
      source: new BeforeEnd(deps.source, async () => {
        await deleteLive(name, generation);
        racingDelete = await replicate({ kind: 'delete', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' });
      }),
    }));
    expect(racingDelete).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
    // A redelivered FINALIZE(N) copies nothing either.
    expect(await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' })).toMatchObject({ status: 'skipped', reason: 'source-missing' });
  });

  it('deleted after the copy completed: the delete removes it, and the FINALIZE redelivered after that copies nothing', async () => {
    const name = 'after-copy.txt';
    const generation = await upload(name, Buffer.from('copied, then deleted'));
    expect(await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' })).toMatchObject({ status: 'copied' });
    await deleteLive(name, generation);
    expect(await replicate({ kind: 'delete', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' })).toMatchObject({ status: 'deleted' });
    expect(await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: 'true' })).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
  });

  it('with REPLICATE_DELETES=false, a copy that completes after the delete is kept, like every deleted object', async () => {
    const name = 'kept.txt';
    const generation = await upload(name, Buffer.from('kept'));
    const outcome = await replicate({ kind: 'finalize', ref: ref(name, generation) }, { REPLICATE_DELETES: 'false' }, (deps) => ({
      ...deps,
      source: new BeforeEnd(deps.source, () => deleteLive(name, generation)),
    }));
    expect(outcome).toMatchObject({ status: 'copied' });
    expect((await headS3(s3, env.S3_BUCKET!, prefix + name))?.Metadata).toMatchObject({ 'gcs-generation': generation });
  });
});
