import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, pipeline } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '@node-rs/crc32';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../src/errors.js';
import type { WriteCondition } from '../../../src/replicate/ports.js';
import { crc32cBase64, VerifyingStream } from '../../../src/replicate/verify-stream.js';
import { PartBufferPool } from '../../../src/sink/part-buffer-pool.js';
import { MIB } from '../../../src/sink/part-size.js';
import { MARKER_PART } from '../../../src/sink/resumable-upload.js';
import { StreamUpload, type ObjectHeaders } from '../../../src/sink/stream-upload.js';
import { FakeS3Server, s3Error, type S3Request } from '../../support/fake-s3-server.js';

const KEY = 'dir/object.bin';
const live = new AbortController().signal;
const crcOf = (bytes: Buffer): string => crc32cBase64(crc32c(bytes));

let s3: FakeS3Server;
let client: S3Client;

beforeEach(async () => {
  s3 = await FakeS3Server.start();
  client = s3.client();
});

afterEach(async () => {
  client.destroy();
  await s3.close();
});

/** The bytes in network-sized chunks. */
function chunked(bytes: Buffer, chunkBytes = 256 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkBytes) chunks.push(bytes.subarray(i, i + chunkBytes));
  return Readable.from(chunks);
}

/** `bytes`, then `error`: a source failing mid-read. */
function failingAfter(bytes: Buffer, error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* chunked(bytes);
      throw error;
    })(),
  );
}

interface Setup {
  body?: Readable;
  size?: number;
  key?: string;
  pool?: PartBufferPool;
  queueSize?: number;
  condition?: WriteCondition;
  /** GCS's CRC32C; null: none given, the upload computes it. */
  crc32c?: string | null;
}

/** An upload of `bytes` into the fake, with 5 MiB parts unless told otherwise. */
function uploadOf(bytes: Buffer, setup: Setup = {}): { upload: StreamUpload; pool: PartBufferPool; body: Readable; opened: () => number[] } {
  const pool = setup.pool ?? new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 8 });
  const body = setup.body ?? chunked(bytes);
  const starts: number[] = [];
  const upload = new StreamUpload({
    client,
    bucket: s3.bucket,
    key: setup.key ?? KEY,
    openBody: (start) => (starts.push(start), body),
    size: setup.size ?? bytes.length,
    pool,
    queueSize: setup.queueSize ?? 3,
    headers: { ContentType: 'application/octet-stream', Metadata: { owner: 'data-team' } },
    condition: setup.condition ?? { ifNoneMatch: '*' },
    crc32c: setup.crc32c === null ? undefined : (setup.crc32c ?? crcOf(bytes)),
  });
  return { upload, pool, body, opened: () => starts };
}

/** UploadPart requests of data parts (not the fingerprint part). */
const dataParts = (): S3Request[] => s3.received('UploadPart').filter((r) => r.partNumber !== MARKER_PART);
const partNumbers = (): number[] => dataParts().map((r) => r.partNumber!);
const onlyUpload = () => {
  expect(s3.uploads.size).toBe(1);
  return [...s3.uploads.values()][0]!;
};

describe('StreamUpload: one PutObject for an object that fits one part', () => {
  it.each([
    ['an empty object', 0],
    ['a small object', 1000],
    ['1 MiB', MIB],
    ['just over 1 MiB (a pooled buffer)', MIB + 1],
    ['exactly one part', 5 * MIB],
  ])('%s', async (_label, size) => {
    const bytes = randomBytes(size);
    const { upload, pool } = uploadOf(bytes);
    expect(upload.partBytes).toBe(size);
    await upload.done(live);
    const stored = s3.objects.get(KEY);
    expect(stored?.bytes.equals(bytes)).toBe(true);
    expect(stored?.headers).toMatchObject({ 'x-amz-checksum-crc32c': crcOf(bytes), 'if-none-match': '*', 'content-type': 'application/octet-stream', 'x-amz-meta-owner': 'data-team' });
    expect(s3.received('CreateMultipartUpload')).toEqual([]);
    expect(pool.stats.inUse).toBe(0);
  });

  it('computes the CRC32C itself when none is given', async () => {
    const bytes = randomBytes(3000);
    await uploadOf(bytes, { crc32c: null }).upload.done(live);
    expect(s3.objects.get(KEY)?.headers['x-amz-checksum-crc32c']).toBe(crcOf(bytes));
  });
});

describe('StreamUpload: multipart', () => {
  it('numbers the parts in body order and completes with them in order and the full-object CRC32C, whatever order they finish in', async () => {
    const bytes = randomBytes(12 * MIB + 3);
    // Part 1 answers only after part 3 has been answered.
    s3.intercept = async (r) => {
      if (r.partNumber === 1) await (await s3.arrival((p) => p.partNumber === 3)).settled;
      return undefined;
    };
    const { upload, pool } = uploadOf(bytes, { queueSize: 3 });
    expect(upload.partBytes).toBe(5 * MIB);
    await upload.done(live);

    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
    const multipart = onlyUpload();
    expect(multipart.state).toBe('completed');
    expect([...multipart.parts].map(([n, p]) => [n, p.bytes.length])).toEqual(expect.arrayContaining([[1, 5 * MIB], [2, 5 * MIB], [3, 2 * MIB + 3]]));
    expect(multipart.completion?.partNumbers).toEqual([1, 2, 3]);
    expect(multipart.completion?.headers).toMatchObject({ 'x-amz-checksum-crc32c': crcOf(bytes), 'x-amz-checksum-type': 'FULL_OBJECT', 'if-none-match': '*' });
    expect(multipart.headers).toMatchObject({ 'x-amz-checksum-algorithm': 'CRC32C', 'x-amz-checksum-type': 'FULL_OBJECT', 'x-amz-meta-owner': 'data-team' });
    for (const r of s3.received('UploadPart')) expect(r.headers['x-amz-checksum-crc32c']).toBe(crcOf(r.body));
    expect(pool.stats.inUse).toBe(0);
  });

  it('computes the full-object CRC32C itself when none is given', async () => {
    const bytes = randomBytes(11 * MIB);
    await uploadOf(bytes, { crc32c: null }).upload.done(live);
    expect(onlyUpload().completion?.headers['x-amz-checksum-crc32c']).toBe(crcOf(bytes));
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });

  it('replaces the object only if it still has the ETag looked at', async () => {
    const bytes = randomBytes(11 * MIB);
    s3.objects.set(KEY, { bytes: Buffer.from('old'), etag: '"old"', headers: {} });
    await uploadOf(bytes, { condition: { ifMatch: '"old"' } }).upload.done(live);
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
    expect(onlyUpload().completion?.headers['if-match']).toBe('"old"');
  });
});

describe('StreamUpload: failures abort the multipart upload and throw the first error', () => {
  it('one part failing while others are in flight: every part settles first, then the upload is aborted', async () => {
    const bytes = randomBytes(17 * MIB);
    let slotsInUseAtAbort: number | undefined;
    let pool: PartBufferPool | undefined;
    s3.intercept = async (r) => {
      // Parts 1 and 2 never answer: only the uploader cancelling them ends them.
      if (r.partNumber === 1 || r.partNumber === 2) await r.settled;
      if (r.partNumber === 3) {
        await s3.arrival((p) => p.partNumber === 1);
        await s3.arrival((p) => p.partNumber === 2);
        return s3Error(500, 'InternalError');
      }
      if (r.operation === 'AbortMultipartUpload') slotsInUseAtAbort = pool!.stats.inUse;
      return undefined;
    };
    const setup = uploadOf(bytes, { queueSize: 3 });
    pool = setup.pool;
    const error = await setup.upload.done(live).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'InternalError' });
    expect((error as Error).cause).toBeUndefined();
    expect(onlyUpload().state).toBe('aborted');
    expect(s3.objects.has(KEY)).toBe(false);
    // Every part buffer was back (its part settled) before the abort was sent.
    expect(slotsInUseAtAbort).toBe(0);
    const parts = dataParts();
    expect(await Promise.all(parts.filter((r) => r.partNumber !== 3).map((r) => r.settled))).toEqual(['cancelled', 'cancelled']);
    // The fourth part was never read, let alone sent.
    expect(partNumbers().sort()).toEqual([1, 2, 3]);
    expect(setup.body.destroyed).toBe(true);
    expect(pool.stats.inUse).toBe(0);
  });

  it('a source error mid-part: the part being filled is dropped and that very error is thrown', async () => {
    const failure = new IntegrityError('GCS read broke off');
    const { upload, pool } = uploadOf(Buffer.alloc(0), { body: failingAfter(randomBytes(7 * MIB), failure), size: 12 * MIB });
    await expect(upload.done(live)).rejects.toBe(failure);
    // Part 1 may have been cancelled before S3 had all of it; part 2 was never sent.
    expect(partNumbers()).not.toContain(2);
    expect(onlyUpload().state).toBe('aborted');
    expect(failure.cause).toBeUndefined();
    expect(pool.stats.inUse).toBe(0);
  });

  it("the body's own check failing at its end: the last part, though full, is never sent", async () => {
    const bytes = randomBytes(10 * MIB);
    const verifier = new VerifyingStream({ label: 'gs://b/o', size: bytes.length, crc32c: crcOf(Buffer.from('other bytes')) });
    const body = pipeline(chunked(bytes), verifier, () => undefined);
    const { upload, pool } = uploadOf(bytes, { body });
    await expect(upload.done(live)).rejects.toBeInstanceOf(IntegrityError);
    expect(partNumbers()).not.toContain(2);
    expect(onlyUpload().state).toBe('aborted');
    expect(s3.objects.has(KEY)).toBe(false);
    expect(pool.stats.inUse).toBe(0);
  });

  it("the caller's signal aborting mid-upload: parts in flight are cancelled, the body destroyed, the reason thrown", async () => {
    const body = new PassThrough();
    body.write(randomBytes(6 * MIB));
    const controller = new AbortController();
    const reason = new Error('shutting down');
    s3.intercept = async (r) => {
      if (r.partNumber === 1) {
        controller.abort(reason);
        await r.settled;
      }
      return undefined;
    };
    const { upload, pool } = uploadOf(Buffer.alloc(0), { body, size: 20 * MIB });
    await expect(upload.done(controller.signal)).rejects.toBe(reason);
    expect(await dataParts()[0]!.settled).toBe('cancelled');
    expect(onlyUpload().state).toBe('aborted');
    expect(body.destroyed).toBe(true);
    expect(pool.stats.inUse).toBe(0);
  });

  it('a signal aborted before the start: no request at all, the body never opened', async () => {
    const { upload, opened } = uploadOf(randomBytes(11 * MIB));
    await expect(upload.done(AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
    expect(s3.requests).toEqual([]);
    expect(opened()).toEqual([]);
  });

  it.each([
    ['shorter', 11 * MIB, /body ended after 11534336 of 12582912 bytes/],
    ['longer', 13 * MIB, /body is longer than the 12582912 bytes announced/],
  ])('a body %s than announced', async (_label, actual, message) => {
    const { upload, pool } = uploadOf(randomBytes(actual), { size: 12 * MIB });
    await expect(upload.done(live)).rejects.toThrow(message);
    expect(onlyUpload().state).toBe('aborted');
    expect(s3.objects.has(KEY)).toBe(false);
    expect(pool.stats.inUse).toBe(0);
  });

  it('a completion S3 refuses (the bytes do not add up to the CRC32C given) aborts the upload', async () => {
    const { upload } = uploadOf(randomBytes(11 * MIB), { crc32c: crcOf(Buffer.from('not these bytes')) });
    await expect(upload.done(live)).rejects.toMatchObject({ name: 'BadDigest' });
    expect(onlyUpload().state).toBe('aborted');
    expect(s3.objects.has(KEY)).toBe(false);
  });

  it('a failed abort is recorded as the cause of the error thrown', async () => {
    s3.intercept = (r) => (r.partNumber === 2 ? s3Error(500, 'InternalError') : r.operation === 'AbortMultipartUpload' ? s3Error(503, 'SlowDown') : undefined);
    const { upload } = uploadOf(randomBytes(11 * MIB), { queueSize: 1 });
    const error = await upload.done(live).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InternalError', cause: { name: 'SlowDown' } });
    expect(onlyUpload().state).toBe('open');
  });

  it('a failed abort next to a cause the error already has: both are kept', async () => {
    s3.intercept = (r) => (r.operation === 'AbortMultipartUpload' ? s3Error(503, 'SlowDown') : undefined);
    const failure = new Error('read failed', { cause: 'socket reset' });
    const { upload } = uploadOf(Buffer.alloc(0), { body: failingAfter(randomBytes(6 * MIB), failure), size: 12 * MIB });
    await expect(upload.done(live)).rejects.toBe(failure);
    expect(failure.cause).toBeInstanceOf(AggregateError);
    expect((failure.cause as AggregateError).errors).toEqual(['socket reset', expect.objectContaining({ name: 'SlowDown' })]);
  });

  it('CreateMultipartUpload refused: its error is thrown, the body never opened, nothing to abort', async () => {
    s3.intercept = (r) => (r.operation === 'CreateMultipartUpload' ? s3Error(403, 'AccessDenied') : undefined);
    const { upload, opened } = uploadOf(randomBytes(11 * MIB));
    await expect(upload.done(live)).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(s3.received('AbortMultipartUpload')).toEqual([]);
    expect(opened()).toEqual([]);
  });

  it('done runs once', async () => {
    const { upload } = uploadOf(randomBytes(10));
    await upload.done(live);
    await expect(upload.done(live)).rejects.toThrow(/called twice/);
  });
});

describe('StreamUpload: memory', () => {
  it('uploads sharing a pool never hold more part buffers than it has, and give every one back', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 3 });
    // Slow parts, so the uploads overlap and compete for buffers.
    s3.intercept = async (r: S3Request) => {
      if (r.operation === 'UploadPart') await new Promise((resolve) => setTimeout(resolve, 15));
      return undefined;
    };
    const objects = [0, 1, 2].map((i) => ({ key: `bounded/${i}`, bytes: randomBytes(11 * MIB + i) }));
    await Promise.all(objects.map((o) => uploadOf(o.bytes, { key: o.key, pool, queueSize: 2 }).upload.done(live)));

    for (const o of objects) expect(s3.objects.get(o.key)?.bytes.equals(o.bytes)).toBe(true);
    expect(pool.stats.peakInUse).toBe(3);
    expect(pool.stats.allocated).toBeLessThanOrEqual(3);
    expect(s3.peakOpenParts).toBeLessThanOrEqual(3);
    expect(pool.stats.inUse).toBe(0);
  }, 30_000);
});

describe('StreamUpload: resuming a large upload', () => {
  const PART = 5 * MIB;
  const gen1 = { ContentType: 'application/octet-stream', Metadata: { 'gcs-generation': '1', 'gcs-bucket': 'src' } };

  /** A resumable upload of `bytes` whose body records where it was opened. */
  function resumable(bytes: Buffer, options: { headers?: ObjectHeaders; bufferBytes?: number; queueSize?: number } = {}) {
    const starts: number[] = [];
    const upload = new StreamUpload({
      client,
      bucket: s3.bucket,
      key: KEY,
      openBody: (start) => (starts.push(start), chunked(bytes.subarray(start))),
      size: bytes.length,
      pool: new PartBufferPool({ bufferBytes: options.bufferBytes ?? PART, buffers: 8 }),
      queueSize: options.queueSize ?? 1,
      headers: options.headers ?? gen1,
      condition: { ifNoneMatch: '*' },
      crc32c: crcOf(bytes),
      resumable: true,
    });
    return { upload, starts };
  }

  /** The first attempt fails at part `failAt` with a 500 (transient), after the parts before it landed. */
  async function failFirstAttempt(bytes: Buffer, failAt: number, headers: ObjectHeaders = gen1): Promise<void> {
    s3.intercept = (r) => (r.partNumber === failAt ? s3Error(500, 'InternalError') : undefined);
    await expect(resumable(bytes, { headers }).upload.done(live)).rejects.toMatchObject({ name: 'InternalError' });
    s3.intercept = undefined;
  }

  it('after a transient failure at half the parts, the next attempt sends only the missing parts, read from the first missing one', async () => {
    const bytes = randomBytes(10 * PART + 123);
    await failFirstAttempt(bytes, 6);
    expect(onlyUpload().state).toBe('open');
    expect(s3.received('AbortMultipartUpload')).toEqual([]);
    const sentBefore = dataParts().length;

    const { upload, starts } = resumable(bytes);
    await upload.done(live);
    expect(starts).toEqual([5 * PART]);
    expect(upload.resumedParts).toBe(5);
    expect(dataParts().slice(sentBefore).map((r) => r.partNumber)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(s3.received('CreateMultipartUpload')).toHaveLength(1);
    const multipart = onlyUpload();
    expect(multipart.state).toBe('completed');
    expect(multipart.completion?.partNumbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(multipart.completion?.headers).toMatchObject({ 'x-amz-checksum-crc32c': crcOf(bytes), 'x-amz-checksum-type': 'FULL_OBJECT' });
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });

  it('a part already sent after the first missing one is read past, not sent again', async () => {
    const bytes = randomBytes(9 * PART);
    // Part 4 fails only once part 5 has landed: parts 1–3 and 5 are in S3.
    s3.intercept = async (r) => {
      if (r.partNumber !== 4) return undefined;
      await (await s3.arrival((p) => p.partNumber === 5)).settled;
      return s3Error(503, 'SlowDown');
    };
    await expect(resumable(bytes, { queueSize: 2 }).upload.done(live)).rejects.toMatchObject({ name: 'SlowDown' });
    s3.intercept = undefined;
    const sentBefore = dataParts().length;

    const { upload, starts } = resumable(bytes, { queueSize: 2 });
    await upload.done(live);
    expect(starts).toEqual([3 * PART]);
    expect(dataParts().slice(sentBefore).map((r) => r.partNumber).sort((a, b) => a! - b!)).toEqual([4, 6, 7, 8, 9]);
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });

  it('a deadline (the caller aborting) keeps the parts, and the next delivery finishes the object', async () => {
    const bytes = randomBytes(10 * PART);
    const deadline = new AbortController();
    s3.intercept = (r) => (r.partNumber === 4 ? (deadline.abort(new Error('request deadline')), undefined) : undefined);
    await expect(resumable(bytes).upload.done(deadline.signal)).rejects.toThrow('request deadline');
    s3.intercept = undefined;
    expect(onlyUpload().state).toBe('open');

    const { upload, starts } = resumable(bytes);
    await upload.done(live);
    expect(starts[0]).toBeGreaterThanOrEqual(3 * PART);
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });

  it.each([
    ['another generation', { headers: { ...gen1, Metadata: { ...gen1.Metadata, 'gcs-generation': '2' } } }],
    ['other headers of the same generation', { headers: { ...gen1, ContentType: 'text/plain' } }],
    ['another part size', { bufferBytes: 6 * MIB }],
  ])('an upload at the key for %s is aborted, not resumed', async (_label, other) => {
    const first = randomBytes(10 * PART);
    await failFirstAttempt(first, 6);
    const [staleId] = [...s3.uploads.keys()];

    const second = randomBytes(10 * PART);
    const { upload, starts } = resumable(second, other);
    await upload.done(live);
    expect(starts).toEqual([0]);
    expect(upload.resumedParts).toBe(0);
    expect(s3.uploads.get(staleId!)?.state).toBe('aborted');
    expect(s3.received('CreateMultipartUpload')).toHaveLength(2);
    expect(s3.objects.get(KEY)?.bytes.equals(second)).toBe(true);
  });

  it.each([
    ['another storage class', { StorageClass: 'STANDARD_IA' }],
    ['no storage class (the bucket default) instead of one', { StorageClass: undefined }],
    ['other encryption', { ServerSideEncryption: 'AES256', SSEKMSKeyId: undefined }],
    ['another KMS key', { SSEKMSKeyId: 'alias/other' }],
    ['the Bucket Key setting changed', { BucketKeyEnabled: false }],
  ] as const)('the same bytes and generation with %s: the upload made with the old settings is aborted, not resumed', async (_label, change) => {
    const settings: ObjectHeaders = { StorageClass: 'GLACIER', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/replica', BucketKeyEnabled: true };
    const bytes = randomBytes(6 * PART);
    await failFirstAttempt(bytes, 4, { ...gen1, ...settings });
    const [staleId] = [...s3.uploads.keys()];

    const now: ObjectHeaders = { ...gen1, ...settings, ...change };
    const { upload, starts } = resumable(bytes, { headers: now });
    await upload.done(live);
    expect(starts).toEqual([0]);
    expect(s3.uploads.get(staleId!)?.state).toBe('aborted');
    const created = s3.received('CreateMultipartUpload').at(-1)!.headers;
    expect([created['x-amz-storage-class'], created['x-amz-server-side-encryption']]).toEqual([now.StorageClass, now.ServerSideEncryption]);
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });

  it('the same settings resume: storage class and encryption are part of the fingerprint, not noise in it', async () => {
    const settings: ObjectHeaders = { StorageClass: 'GLACIER', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/replica' };
    const bytes = randomBytes(6 * PART);
    await failFirstAttempt(bytes, 4, { ...gen1, ...settings });
    const { upload, starts } = resumable(bytes, { headers: { ...gen1, ...settings } });
    await upload.done(live);
    expect(starts).toEqual([3 * PART]);
    expect(s3.objects.get(KEY)?.headers).toMatchObject({ 'x-amz-storage-class': 'GLACIER', 'x-amz-server-side-encryption-aws-kms-key-id': 'alias/replica' });
  });

  it("bytes S3 holds that are not GCS's fail the full-object CRC32C at completion: the upload is aborted, never completed", async () => {
    const bytes = randomBytes(10 * PART);
    await failFirstAttempt(bytes, 6);
    // A kept part whose bytes (and checksum) are not this object's, as S3 would list it.
    const stored = onlyUpload().parts.get(2)!;
    const other = randomBytes(PART);
    onlyUpload().parts.set(2, { ...stored, bytes: other, crc32c: crcOf(other) });

    await expect(resumable(bytes).upload.done(live)).rejects.toMatchObject({ name: 'BadDigest' });
    expect(onlyUpload().state).toBe('aborted');
    expect(s3.objects.has(KEY)).toBe(false);
  });

  it('an upload stopped before its fingerprint part landed is aborted: no attempt could ever resume it', async () => {
    const deadline = new AbortController();
    s3.intercept = async (r) => {
      if (r.partNumber !== MARKER_PART) return undefined;
      deadline.abort(new Error('request deadline'));
      await r.settled;
      return undefined;
    };
    await expect(resumable(randomBytes(10 * PART)).upload.done(deadline.signal)).rejects.toThrow('request deadline');
    expect(onlyUpload().state).toBe('aborted');
  });

  it('a permanent failure aborts a resumable upload', async () => {
    const bytes = randomBytes(10 * PART);
    s3.intercept = (r) => (r.partNumber === 3 ? s3Error(400, 'EntityTooLarge') : undefined);
    await expect(resumable(bytes).upload.done(live)).rejects.toMatchObject({ name: 'EntityTooLarge' });
    expect(onlyUpload().state).toBe('aborted');
  });

  it('a listed part of the wrong size is sent again', async () => {
    const bytes = randomBytes(10 * PART);
    await failFirstAttempt(bytes, 6);
    const stored = onlyUpload().parts.get(3)!;
    onlyUpload().parts.set(3, { ...stored, bytes: stored.bytes.subarray(1) });
    const sentBefore = dataParts().length;

    const { upload, starts } = resumable(bytes);
    await upload.done(live);
    expect(starts).toEqual([2 * PART]);
    expect(dataParts().slice(sentBefore).map((r) => r.partNumber)).toEqual([3, 6, 7, 8, 9, 10]);
    expect(s3.objects.get(KEY)?.bytes.equals(bytes)).toBe(true);
  });
});
