import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '@node-rs/crc32';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, PermanentError, PreconditionFailedError, TransientError } from '../../../src/errors.js';
import type { WriteCondition, WriteSpec } from '../../../src/replicate/ports.js';
import { crc32cBase64 } from '../../../src/replicate/verify-stream.js';
import { PROVENANCE } from '../../../src/replicate/write-spec.js';
import { MIB } from '../../../src/sink/part-size.js';
import { S3Sink } from '../../../src/sink/s3-sink.js';
import { FakeS3Server, s3Error, type S3Operation } from '../../support/fake-s3-server.js';

const live = new AbortController().signal;
const crcOf = (bytes: Buffer): string => crc32cBase64(crc32c(bytes));

let s3: FakeS3Server;
let client: S3Client;
let sink: S3Sink;

beforeEach(async () => {
  s3 = await FakeS3Server.start();
  client = s3.client();
  sink = new S3Sink({ client, bucket: s3.bucket, partSizeBytes: 5 * MIB, partQueueSize: 2, maxConcurrentObjects: 2 });
});

afterEach(async () => {
  client.destroy();
  await s3.close();
});

/** What the core would ask for a GCS object with these bytes. */
function specFor(bytes: Buffer, extra: Partial<WriteSpec> = {}): WriteSpec {
  return {
    size: bytes.length,
    contentType: 'text/plain',
    metadata: { [PROVENANCE.bucket]: 'source-bucket', [PROVENANCE.generation]: '1700000000000001', [PROVENANCE.crc32c]: crcOf(bytes) },
    ...extra,
  };
}

async function write(key: string, bytes: Buffer, condition: WriteCondition = { ifNoneMatch: '*' }, spec = specFor(bytes)): Promise<void> {
  await sink.write(key, () => Readable.from([bytes]), spec, condition, live);
}

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('S3Sink.head', () => {
  it('is undefined for an absent key', async () => {
    expect(await sink.head('nothing/here', live)).toBeUndefined();
  });

  it('maps the provenance gcs2s3 wrote back into a SinkObject', async () => {
    const bytes = Buffer.from('hello');
    await write('a/b.txt', bytes);
    expect(await sink.head('a/b.txt', live)).toMatchObject({
      key: 'a/b.txt',
      etag: s3.objects.get('a/b.txt')!.etag,
      size: 5,
      generation: '1700000000000001',
      crc32c: crcOf(bytes),
      sourceBucket: 'source-bucket',
      storedCrc32c: crcOf(bytes),
    });
  });

  it('leaves provenance unset for an object gcs2s3 did not write, and decodes an encoded bucket value', async () => {
    s3.objects.set('foreign', { bytes: Buffer.from('x'), etag: '"f"', headers: { 'content-type': 'text/plain' } });
    expect(await sink.head('foreign', live)).toEqual({
      key: 'foreign',
      etag: '"f"',
      size: 1,
      generation: undefined,
      crc32c: undefined,
      sourceBucket: undefined,
      storedCrc32c: undefined,
      metageneration: undefined,
      storageClass: 'STANDARD',
      archived: false,
      headers: { contentType: 'text/plain', contentEncoding: undefined, contentDisposition: undefined, contentLanguage: undefined, cacheControl: undefined, metadata: {} },
    });
    s3.objects.set('encoded', { bytes: Buffer.from('x'), etag: '"e"', headers: { 'x-amz-meta-gcs-bucket': '=?UTF-8?B?YnVja2V0LcOp?=' } });
    expect((await sink.head('encoded', live))?.sourceBucket).toBe('bucket-é');
  });
});

describe('S3Sink.write', () => {
  it('writes the bytes with the copied headers, and metadata S3 can carry', async () => {
    const bytes = Buffer.from('<p>bonjour</p>');
    const spec = specFor(bytes, {
      contentType: 'text/html',
      contentEncoding: 'identity',
      contentDisposition: 'attachment; filename="café.html"',
      contentLanguage: 'fr',
      cacheControl: 'no-cache',
    });
    spec.metadata.note = 'café ☕';
    await write('page.html', bytes, { ifNoneMatch: '*' }, spec);
    const stored = s3.objects.get('page.html')!;
    expect(stored.bytes.equals(bytes)).toBe(true);
    expect(stored.headers).toMatchObject({
      'content-type': 'text/html',
      'content-encoding': 'identity',
      'content-disposition': `=?UTF-8?B?${Buffer.from('attachment; filename="café.html"').toString('base64')}?=`,
      'content-language': 'fr',
      'cache-control': 'no-cache',
      'x-amz-meta-note': `=?UTF-8?B?${Buffer.from('café ☕').toString('base64')}?=`,
      'x-amz-meta-gcs-generation': '1700000000000001',
      'x-amz-checksum-crc32c': crcOf(bytes),
    });
  });

  it('streams a large object in parts and gives every part buffer back', async () => {
    const bytes = randomBytes(11 * MIB);
    await write('big.bin', bytes);
    expect(s3.objects.get('big.bin')?.bytes.equals(bytes)).toBe(true);
    expect(s3.objects.get('big.bin')?.etag).toMatch(/-3"$/);
    expect(sink.partBuffers.inUse).toBe(0);
  });

  it.each([
    ['one PutObject', 100],
    ['a multipart upload', 11 * MIB],
  ])('create-only loses to an object already there (%s): PreconditionFailedError, the object untouched', async (_label, size) => {
    s3.objects.set('taken', { bytes: Buffer.from('first'), etag: '"first"', headers: {} });
    const error = await failure(write('taken', randomBytes(size)));
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect(error).toMatchObject({ code: 'PreconditionFailed', retryable: true });
    expect(s3.objects.get('taken')?.etag).toBe('"first"');
    expect([...s3.uploads.values()].every((u) => u.state === 'aborted')).toBe(true);
  });

  it('replace-if-unchanged loses to an object that changed since: PreconditionFailedError; wins against the one looked at', async () => {
    s3.objects.set('k', { bytes: Buffer.from('v1'), etag: '"v1"', headers: {} });
    expect(await failure(write('k', Buffer.from('v2'), { ifMatch: '"v0"' }))).toBeInstanceOf(PreconditionFailedError);
    await write('k', Buffer.from('v2'), { ifMatch: '"v1"' });
    expect(s3.objects.get('k')?.bytes.toString()).toBe('v2');
  });

  it('refuses an object over 5 TiB before sending anything', async () => {
    const error = await failure(sink.write('huge', () => Readable.from([]), specFor(Buffer.alloc(0), { size: 5 * 1024 ** 4 + 1 }), { ifNoneMatch: '*' }, live));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'EntityTooLarge' });
    expect(s3.requests).toEqual([]);
  });

  it("passes the body's own classified error through unchanged", async () => {
    const broken = new IntegrityError('CRC32C mismatch', { code: 'Crc32cMismatch' });
    const body = Readable.from(
      (async function* () {
        yield Buffer.alloc(1000);
        throw broken;
      })(),
    );
    expect(await failure(sink.write('k', () => body, specFor(Buffer.alloc(2000)), { ifNoneMatch: '*' }, live))).toBe(broken);
  });
});

/** An S3 answer to one operation, and the error class the sink turns it into. */
const CLASSIFIED: Array<[S3Operation, number, string, new (...args: never[]) => Error]> = [
  ['PutObject', 412, 'PreconditionFailed', PreconditionFailedError],
  ['PutObject', 409, 'ConditionalRequestConflict', PreconditionFailedError],
  ['PutObject', 400, 'MetadataTooLarge', PermanentError],
  ['PutObject', 400, 'KeyTooLongError', PermanentError],
  ['PutObject', 403, 'AccessDenied', TransientError],
  ['PutObject', 500, 'InternalError', TransientError],
  ['PutObject', 503, 'SlowDown', TransientError],
  ['CreateMultipartUpload', 403, 'AccessDenied', TransientError],
  ['UploadPart', 500, 'InternalError', TransientError],
  ['CompleteMultipartUpload', 412, 'PreconditionFailed', PreconditionFailedError],
  ['CopyObject', 400, 'MetadataTooLarge', PermanentError],
  ['CopyObject', 412, 'PreconditionFailed', PreconditionFailedError],
  ['DeleteObject', 412, 'PreconditionFailed', PreconditionFailedError],
  ['DeleteObject', 503, 'SlowDown', TransientError],
];

describe('S3Sink error classification', () => {
  it.each(CLASSIFIED.map(([operation, status, code, expected]) => [operation, status, code, expected.name, expected] as const))(
    '%s answering %d %s → %s',
    async (operation, status, code, _name, expected) => {
      s3.objects.set('k', { bytes: Buffer.from('v1'), etag: '"v1"', headers: {} });
      s3.intercept = (r) => (r.operation === operation ? s3Error(status, code) : undefined);
      const bytes = operation === 'PutObject' ? Buffer.from('small') : randomBytes(11 * MIB);
      const call =
        operation === 'CopyObject'
          ? sink.updateMetadata('k', specFor(Buffer.from('v1')), { ifMatch: '"v1"' }, live)
          : operation === 'DeleteObject'
            ? sink.remove('k', { ifMatch: '"v1"' }, live)
            : write('k', bytes, { ifMatch: '"v1"' });
      const error = await failure(call);
      expect(error).toBeInstanceOf(expected);
      expect(error).toMatchObject({ code });
      expect((error as Error).message).toContain('s3://bucket/k');
      expect(s3.objects.get('k')?.etag).toBe('"v1"');
    },
  );

  it.each([
    [403, 'TransientError', TransientError],
    [500, 'TransientError', TransientError],
  ])('HeadObject answering %d → %s (HEAD answers have no body, so no S3 code)', async (status, _name, expected) => {
    s3.intercept = () => ({ status });
    expect(await failure(sink.head('k', live))).toBeInstanceOf(expected);
  });

  it('an S3 that cannot be reached is a transient failure', async () => {
    await s3.close();
    expect(await failure(sink.head('k', live))).toBeInstanceOf(TransientError);
    s3 = await FakeS3Server.start(); // for afterEach
  });
});

describe('S3Sink.updateMetadata and remove', () => {
  const key = 'dir/données a+b.txt';

  it('replaces headers and metadata in place, the bytes kept, on the ETag looked at', async () => {
    const bytes = Buffer.from('content');
    await write(key, bytes);
    const etag = s3.objects.get(key)!.etag;
    const spec = specFor(bytes, { contentType: 'text/markdown' });
    spec.metadata.owner = 'new-team';
    await sink.updateMetadata(key, spec, { ifMatch: etag }, live);
    const stored = s3.objects.get(key)!;
    expect(stored.bytes.equals(bytes)).toBe(true);
    expect(stored.headers).toMatchObject({ 'content-type': 'text/markdown', 'x-amz-meta-owner': 'new-team', 'x-amz-metadata-directive': 'REPLACE', 'x-amz-copy-source-if-match': etag });
    expect(await failure(sink.updateMetadata(key, spec, { ifMatch: etag }, live))).toBeInstanceOf(PreconditionFailedError);
  });

  it('refuses a metadata update over CopyObject’s 5 GiB before sending anything', async () => {
    const error = await failure(sink.updateMetadata(key, specFor(Buffer.alloc(0), { size: 5 * 1024 ** 3 + 1 }), { ifMatch: '"x"' }, live));
    expect(error).toMatchObject({ code: 'EntityTooLarge' });
    expect(error).toBeInstanceOf(PermanentError);
    expect(s3.requests).toEqual([]);
  });

  it('deletes only the object looked at; an object already gone is fine', async () => {
    await write(key, Buffer.from('content'));
    const etag = s3.objects.get(key)!.etag;
    expect(await failure(sink.remove(key, { ifMatch: '"other"' }, live))).toBeInstanceOf(PreconditionFailedError);
    expect(s3.objects.has(key)).toBe(true);
    await sink.remove(key, { ifMatch: etag }, live);
    expect(s3.objects.has(key)).toBe(false);
    await sink.remove(key, { ifMatch: etag }, live);
  });
});

describe('S3Sink: storage class and encryption on every write', () => {
  const settings = { storageClass: 'GLACIER', sse: 'aws:kms', kmsKeyId: 'alias/replica', bucketKey: true } as const;
  const expected = {
    'x-amz-storage-class': 'GLACIER',
    'x-amz-server-side-encryption': 'aws:kms',
    'x-amz-server-side-encryption-aws-kms-key-id': 'alias/replica',
    'x-amz-server-side-encryption-bucket-key-enabled': 'true',
  };
  let configured: S3Sink;
  beforeEach(() => {
    configured = new S3Sink({ client, bucket: s3.bucket, partSizeBytes: 5 * MIB, partQueueSize: 2, maxConcurrentObjects: 2, settings });
  });

  it('a single PutObject carries them', async () => {
    const bytes = Buffer.from('cold');
    await configured.write('one', () => Readable.from([bytes]), specFor(bytes), { ifNoneMatch: '*' }, live);
    expect(s3.objects.get('one')!.headers).toMatchObject(expected);
  });

  it('a multipart upload is created with them (UploadPart needs none for SSE-S3 or SSE-KMS)', async () => {
    const bytes = randomBytes(11 * MIB);
    await configured.write('big', () => Readable.from([bytes]), specFor(bytes), { ifNoneMatch: '*' }, live);
    expect(s3.objects.get('big')!.bytes.equals(bytes)).toBe(true);
    expect(s3.objects.get('big')!.headers).toMatchObject(expected);
    expect(s3.requests.filter((r) => r.operation === 'CreateMultipartUpload').map((r) => r.headers)).toEqual([expect.objectContaining(expected)]);
  });

  it('the in-place metadata copy names them again: a copy that did not would land in STANDARD with the bucket default encryption', async () => {
    const bytes = Buffer.from('cold');
    await configured.write('meta', () => Readable.from([bytes]), specFor(bytes), { ifNoneMatch: '*' }, live);
    await configured.updateMetadata('meta', specFor(bytes, { contentType: 'text/csv' }), { ifMatch: s3.objects.get('meta')!.etag }, live);
    expect(s3.objects.get('meta')!.headers).toMatchObject({ ...expected, 'content-type': 'text/csv', 'x-amz-metadata-directive': 'REPLACE' });
  });

  it('HEAD reports the storage class, and GLACIER as archived; STANDARD when S3 names none', async () => {
    const bytes = Buffer.from('cold');
    await configured.write('cold', () => Readable.from([bytes]), specFor(bytes), { ifNoneMatch: '*' }, live);
    await write('warm', bytes);
    expect(await configured.head('cold', live)).toMatchObject({ storageClass: 'GLACIER', archived: true, generation: '1700000000000001' });
    expect(await sink.head('warm', live)).toMatchObject({ storageClass: 'STANDARD', archived: false });
    // INTELLIGENT_TIERING's opt-in archive tiers: the class stays, the bytes need a restore all the same.
    s3.objects.set('tiered', { bytes, etag: '"t"', headers: { 'x-amz-storage-class': 'INTELLIGENT_TIERING', 'x-amz-archive-status': 'DEEP_ARCHIVE_ACCESS' } });
    expect(await sink.head('tiered', live)).toMatchObject({ storageClass: 'INTELLIGENT_TIERING', archived: true });
  });

  it('writes without settings send none of these headers (the bucket defaults apply)', async () => {
    const bytes = Buffer.from('plain');
    await write('plain', bytes);
    const sent = Object.keys(s3.objects.get('plain')!.headers);
    expect(sent.filter((h) => h.startsWith('x-amz-storage-class') || h.startsWith('x-amz-server-side-encryption'))).toEqual([]);
  });
});
