import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Storage } from '@google-cloud/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, PreconditionFailedError, TimeoutError, TransientError } from '../../../src/errors.js';
import type { SourceObject } from '../../../src/model.js';
import { GcsSource } from '../../../src/source/gcs-source.js';
import { FakeGcsServer } from '../../support/fake-gcs-server.js';

const BUCKET = 'source-bucket';
const live = new AbortController().signal;

let gcs: FakeGcsServer;
let storage: Storage;
let source: GcsSource;

beforeEach(async () => {
  // The library prefers this variable to apiEndpoint; the fake must win.
  vi.stubEnv('STORAGE_EMULATOR_HOST', undefined);
  gcs = await FakeGcsServer.start();
  storage = gcs.storage();
  source = new GcsSource(storage, { stallTimeoutMs: 20_000, endpoint: 'http://fake-gcs' });
});

afterEach(async () => {
  await gcs.close();
  vi.unstubAllEnvs();
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const mediaRequests = () => gcs.requests.filter((r) => r.query.get('alt') === 'media');

describe('GcsSource.stat', () => {
  it('maps the object resource to a SourceObject', async () => {
    const bytes = Buffer.from('a,b\n1,2\n');
    const generation = gcs.put(BUCKET, 'dir/report.csv', {
      bytes,
      resource: {
        contentType: 'text/csv',
        contentEncoding: 'identity',
        contentDisposition: 'attachment; filename="report.csv"',
        contentLanguage: 'en',
        cacheControl: 'public, max-age=60',
        metageneration: '3',
        metadata: { owner: 'data-team', note: 'café ☕', removed: null },
      },
    });
    const object = await source.stat({ bucket: BUCKET, name: 'dir/report.csv', generation }, live);
    expect(object).toEqual({
      bucket: BUCKET,
      name: 'dir/report.csv',
      generation,
      metageneration: '3',
      size: bytes.length,
      crc32c: expect.any(String),
      md5Hash: expect.any(String),
      contentType: 'text/csv',
      contentEncoding: 'identity',
      contentDisposition: 'attachment; filename="report.csv"',
      contentLanguage: 'en',
      cacheControl: 'public, max-age=60',
      metadata: { owner: 'data-team', note: 'café ☕' },
      timeCreated: '2024-05-01T12:00:00.000Z',
    } satisfies SourceObject);
    expect(gcs.requests.map((r) => [r.path, r.query.get('generation')])).toEqual([[`/storage/v1/b/${BUCKET}/o/dir/report.csv`, generation]]);
  });

  it('without a generation, asks for the live one; with one, gets exactly that one', async () => {
    const first = gcs.put(BUCKET, 'o', { bytes: Buffer.from('one') });
    const second = gcs.put(BUCKET, 'o', { bytes: Buffer.from('two!') });
    expect(await source.stat({ bucket: BUCKET, name: 'o' }, live)).toMatchObject({ generation: second, size: 4 });
    expect(await source.stat({ bucket: BUCKET, name: 'o', generation: first }, live)).toMatchObject({ generation: first, size: 3 });
    expect(gcs.requests.map((r) => r.query.get('generation'))).toEqual([null, first]);
  });

  it('is undefined for an absent object or generation', async () => {
    gcs.put(BUCKET, 'o', { bytes: Buffer.from('x') });
    expect(await source.stat({ bucket: BUCKET, name: 'missing' }, live)).toBeUndefined();
    expect(await source.stat({ bucket: BUCKET, name: 'o', generation: '1' }, live)).toBeUndefined();
  });

  it.each([
    [403, 'forbidden'],
    [429, 'rateLimitExceeded'],
    [503, 'backendError'],
  ])('a %d (%s) is a transient failure naming the object', async (status, reason) => {
    gcs.intercept = () => ({ status, json: { error: { code: status, message: 'no', errors: [{ reason }] } } });
    const error = await source.stat({ bucket: BUCKET, name: 'o', generation: '42' }, live).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: reason });
    expect((error as Error).message).toContain(`gs://${BUCKET}/o#42`);
  });
});

describe('GcsSource.read', () => {
  it('reads the generation it was given, even when a newer one is live', async () => {
    const old = randomBytes(300_000);
    const object = (await source.stat({ bucket: BUCKET, name: 'o', generation: gcs.put(BUCKET, 'o', { bytes: old }) }, live))!;
    gcs.put(BUCKET, 'o', { bytes: Buffer.from('newer') });
    expect((await readAll(source.read(object, live))).equals(old)).toBe(true);
    expect(mediaRequests().map((r) => r.query.get('generation'))).toEqual([object.generation]);
  });

  it('never decompresses: a gzip-encoded object arrives as the stored gzip bytes', async () => {
    const text = Buffer.from('<html>'.padEnd(50_000, 'x'));
    const stored = gzipSync(text);
    const generation = gcs.put(BUCKET, 'page.html', { bytes: stored, resource: { contentType: 'text/html', contentEncoding: 'gzip' } });
    const object = (await source.stat({ bucket: BUCKET, name: 'page.html', generation }, live))!;
    const got = await readAll(source.read(object, live));
    expect(got.equals(stored)).toBe(true);
    expect(mediaRequests()[0]!.headers['accept-encoding']).toMatch(/gzip/);
  });

  it('a generation gone before the read: the stream errors with a classified error naming it', async () => {
    const object: SourceObject = { bucket: BUCKET, name: 'gone', generation: '7', metageneration: '1', size: 3, metadata: {} };
    const error = await readAll(source.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain(`gs://${BUCKET}/gone#7`);
  });

  it('destroying the stream stops the download', async () => {
    gcs.chunkDelayMs = 20;
    const generation = gcs.put(BUCKET, 'slow', { bytes: randomBytes(64 * 1024 * 50) });
    const object = (await source.stat({ bucket: BUCKET, name: 'slow', generation }, live))!;
    const stream = source.read(object, live);
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();
    expect(await mediaRequests()[0]!.settled).toBe('cancelled');
  });

  it('from a start offset, asks for the rest (Range: bytes=N-) and gets exactly those bytes', async () => {
    const bytes = randomBytes(300_000);
    const object = (await source.stat({ bucket: BUCKET, name: 'o', generation: gcs.put(BUCKET, 'o', { bytes }) }, live))!;
    expect((await readAll(source.read(object, live, 123_456))).equals(bytes.subarray(123_456))).toBe(true);
    expect(mediaRequests().map((r) => [r.headers.range, r.query.get('generation')])).toEqual([['bytes=123456-', object.generation]]);
  });

  it('a whole object (200) answered to a ranged read is refused, never appended to what was copied', async () => {
    gcs.ignoreRange = true;
    const object = (await source.stat({ bucket: BUCKET, name: 'o', generation: gcs.put(BUCKET, 'o', { bytes: randomBytes(10_000) }) }, live))!;
    const error = await readAll(source.read(object, live, 5_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe(`GCS read http://fake-gcs gs://${BUCKET}/o#${object.generation} failed: error (HTTP 200): asked for bytes from 5000, got HTTP 200`);
  });

  it.each([
    [404, 'notFound', TransientError],
    [403, 'forbidden', TransientError],
    [412, 'conditionNotMet', PreconditionFailedError],
    [429, 'rateLimitExceeded', TransientError],
    [500, 'internalError', TransientError],
    [503, 'backendError', TransientError],
  ])('a %d (%s) answer to a media read is classified as GCS errors are, naming the endpoint and object', async (status, reason, kind) => {
    gcs.intercept = (r) => (r.query.get('alt') === 'media' ? { status, json: { error: { code: status, message: 'said no', errors: [{ reason }] } } } : undefined);
    const object = (await source.stat({ bucket: BUCKET, name: 'o', generation: gcs.put(BUCKET, 'o', { bytes: Buffer.from('x') }) }, live))!;
    const error = await readAll(source.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ code: reason, message: `GCS read http://fake-gcs gs://${BUCKET}/o#${object.generation} failed: ${reason} (HTTP ${status}): said no` });
  });

  it('a connection cut mid-body is a transient error naming the endpoint and object', async () => {
    gcs.chunkBytes = 1000;
    gcs.cutAfterBytes = 3000;
    const object = (await source.stat({ bucket: BUCKET, name: 'cut', generation: gcs.put(BUCKET, 'cut', { bytes: randomBytes(10_000) }) }, live))!;
    const error = await readAll(source.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect((error as Error).message).toContain(`GCS read http://fake-gcs gs://${BUCKET}/cut#${object.generation} failed: ECONNRESET`);
  });

  it('an endpoint that refuses connections is a transient error naming it and the object', async () => {
    const endpoint = gcs.url;
    await gcs.close();
    const refused = new GcsSource(new Storage({ apiEndpoint: endpoint, projectId: 'p' }), { stallTimeoutMs: 20_000, endpoint });
    const object: SourceObject = { bucket: BUCKET, name: 'o', generation: '7', metageneration: '1', size: 3, metadata: {} };
    const error = await readAll(refused.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect((error as Error).message).toContain(`GCS read ${endpoint} gs://${BUCKET}/o#7 failed: ECONNREFUSED`);
    gcs = await FakeGcsServer.start();
  });

  it('consecutive reads share one kept-alive connection', async () => {
    const generation = gcs.put(BUCKET, 'o', { bytes: randomBytes(5000) });
    const object = (await source.stat({ bucket: BUCKET, name: 'o', generation }, live))!;
    await readAll(source.read(object, live));
    await readAll(source.read(object, live));
    const [first, second] = mediaRequests();
    expect(second!.remotePort).toBe(first!.remotePort);
  });

  it('aborting the signal mid-read ends the stream with an AbortedError and drops the download', async () => {
    gcs.chunkDelayMs = 20;
    const generation = gcs.put(BUCKET, 'slow', { bytes: randomBytes(64 * 1024 * 50) });
    const object = (await source.stat({ bucket: BUCKET, name: 'slow', generation }, live))!;
    const controller = new AbortController();
    const stream = source.read(object, controller.signal);
    const error = new Promise((resolve) => stream.once('error', resolve));
    await new Promise((resolve) => stream.once('data', resolve));
    controller.abort();
    expect(await error).toBeInstanceOf(AbortedError);
    expect(await mediaRequests()[0]!.settled).toBe('cancelled');
  });

  it('an already aborted signal gives a destroyed stream', () => {
    const object: SourceObject = { bucket: BUCKET, name: 'o', generation: '7', metageneration: '1', size: 3, metadata: {} };
    expect(source.read(object, AbortSignal.abort()).destroyed).toBe(true);
  });
});

describe('GcsSource deadlines', () => {
  it('a media read whose body never starts ends at the first-byte limit with a transient error, and the request is dropped', async () => {
    // 0.2 s stall timeout: the first byte may take 0.2 s plus the retry waits (1 s each at most): 3.2 s.
    const watched = new GcsSource(storage, { stallTimeoutMs: 200, endpoint: 'http://fake-gcs' });
    gcs.chunkDelayMs = 10_000;
    const generation = gcs.put(BUCKET, 'silent', { bytes: randomBytes(5000) });
    const object = (await watched.stat({ bucket: BUCKET, name: 'silent', generation }, live))!;
    const error = await readAll(watched.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe(`GCS read http://fake-gcs gs://${BUCKET}/silent#${generation}: no answer for 3.2 s`);
    expect(await mediaRequests()[0]!.settled).toBe('cancelled');
  });

  it('a read that stops mid-body ends at the stall timeout with a transient error naming the endpoint, and the download is dropped', async () => {
    const watched = new GcsSource(storage, { stallTimeoutMs: 200, endpoint: 'http://fake-gcs' });
    gcs.chunkBytes = 1000;
    gcs.chunkDelayMs = 500;
    const generation = gcs.put(BUCKET, 'stalls', { bytes: randomBytes(5000) });
    const object = (await watched.stat({ bucket: BUCKET, name: 'stalls', generation }, live))!;
    const error = await readAll(watched.read(object, live)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe(`GCS read http://fake-gcs gs://${BUCKET}/stalls#${generation}: no bytes for 0.2 s`);
    expect(await mediaRequests()[0]!.settled).toBe('cancelled');
  });

  it('a slow read that keeps moving is never cut, however long it takes', async () => {
    const watched = new GcsSource(storage, { stallTimeoutMs: 200, endpoint: 'http://fake-gcs' });
    gcs.chunkBytes = 1000;
    gcs.chunkDelayMs = 50;
    const bytes = randomBytes(12_000);
    const generation = gcs.put(BUCKET, 'slow-but-moving', { bytes });
    const object = (await watched.stat({ bucket: BUCKET, name: 'slow-but-moving', generation }, live))!;
    const started = Date.now();
    expect((await readAll(watched.read(object, live))).equals(bytes)).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(400);
  });
});
