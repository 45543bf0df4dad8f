import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import type { ObjectEvent, ObjectRef, Outcome, SourceObject } from '../../src/model.js';
import type { Source } from '../../src/replicate/ports.js';
import { replicateObject } from '../../src/replicate/replicate-object.js';
import { decodeMetadataValue } from '../../src/sink/metadata-encoding.js';
import { toSourceObject } from '../../src/source/gcs-source.js';
import { adminS3, gcsClient, headS3, stackConfig, uniquePrefix, useStackEnv, uploadToGcs } from '../support/stack.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let prefix: string;
const signal = new AbortController().signal;

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('odd');
});

afterAll(() => {
  s3?.destroy();
});

function upload(name: string, bytes: Buffer, metadata: Record<string, unknown> = {}): Promise<string> {
  return uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes, metadata);
}

function runtimeFor(overrides: Record<string, string> = {}) {
  return buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix, REPLICATE_DELETES: 'true', ...overrides }), silentLogger);
}

async function replicate(event: ObjectEvent, overrides: Record<string, string> = {}, wrapSource?: (s: Source) => Source): Promise<Outcome> {
  const runtime = runtimeFor(overrides);
  try {
    const deps = wrapSource ? { ...runtime.deps, source: wrapSource(runtime.deps.source) } : runtime.deps;
    return await replicateObject(event, deps, signal);
  } finally {
    runtime.close();
  }
}

const ref = (name: string, generation?: string): ObjectRef => ({ bucket: env.GCS_BUCKET!, name, generation });

/** Where a measured call failed: Node's own code, or S3's error name and status. */
async function refusal(send: () => Promise<unknown>): Promise<string> {
  try {
    await send();
    return 'accepted';
  } catch (err) {
    const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
    return e.$metadata?.httpStatusCode === undefined ? `node ${e.code}` : `${e.$metadata.httpStatusCode} ${e.name}`;
  }
}

describe('what Node and MinIO refuse (measured on the local stack)', () => {
  it.each([
    ['non-ASCII above U+00FF in a header', { ContentType: 'text/plain; name=日本' }, 'node ERR_INVALID_CHAR'],
    ['a control character in a header', { ContentLanguage: 'fr\u0007' }, 'node ERR_INVALID_CHAR'],
    ['DEL in a header', { CacheControl: 'no-cache\u007f' }, 'node ERR_INVALID_CHAR'],
    ['CR LF in a header', { ContentEncoding: 'gzip\r\nX-Evil: 1' }, 'node ERR_INVALID_CHAR'],
    ['non-ASCII above U+00FF in user metadata', { Metadata: { v: '日本' } }, 'node ERR_INVALID_CHAR'],
    ['8 KiB of Cache-Control', { CacheControl: `max-age=1, ${'x'.repeat(8192)}` }, '400 MetadataTooLarge'],
    ['a tab in a header', { ContentType: 'text/plain;\tcharset=utf-8' }, 'accepted'],
    ['an RFC 2047 encoded-word in Content-Type', { ContentType: '=?UTF-8?B?5pel5pys?=' }, 'accepted'],
  ])('%s', async (_label, headers, expected) => {
    const Key = `${prefix}measured/${expected.replace(/\W+/g, '-')}`;
    expect(await refusal(() => s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key, Body: 'x', ...headers })))).toBe(expected);
  });

  it('Latin-1 characters are sent as single bytes, and come back altered: not refused, silently wrong', async () => {
    const Key = `${prefix}measured/latin1`;
    await s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key, Body: 'x', ContentType: 'text/plain; name=café' }));
    expect((await headS3(s3, env.S3_BUCKET!, Key))?.ContentType).toBe('text/plain; name=cafÃ©');
  });

  it.each([
    ['HEAD of a 1,100-byte key: a bare 400, no code to classify', () => s3.send(new HeadObjectCommand({ Bucket: env.S3_BUCKET!, Key: `${prefix}${'k'.repeat(1100)}` })), '400 Unknown'],
    ['PUT of a 1,100-byte key', () => s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key: `${prefix}${'k'.repeat(1100)}`, Body: 'x' })), '400 KeyTooLongError'],
    ['PUT of a key with a 256-byte segment', () => s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key: `${prefix}${'k'.repeat(256)}`, Body: 'x' })), '400 XMinioInvalidObjectName'],
  ])('%s', async (_label, send, expected) => {
    expect(await refusal(send)).toBe(expected);
  });
});

describe('foreign objects at the worker\'s keys', () => {
  it.each([
    ['a gcs-generation that is not a number', { 'gcs-generation': 'v2-final' }],
    ['no provenance at all', {}],
  ])('with %s: a copy replaces it, a metadata update leaves it, a replicated delete removes it', async (label, foreignMetadata) => {
    const name = `foreign/${label.replace(/\W+/g, '-')}.txt`;
    const key = prefix + name;
    const putForeign = () => s3.send(new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key: key, Body: 'written by something else', Metadata: foreignMetadata }));
    const generation = await upload(name, Buffer.from('ours'));
    await putForeign();

    expect(await replicate({ kind: 'metadataUpdate', ref: { ...ref(name), generation } })).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    expect((await headS3(s3, env.S3_BUCKET!, key))?.Metadata).toEqual(foreignMetadata);

    expect(await replicate({ kind: 'finalize', ref: ref(name, generation) })).toMatchObject({ status: 'copied', generation });
    expect((await headS3(s3, env.S3_BUCKET!, key))?.Metadata).toMatchObject({ 'gcs-generation': generation });

    await putForeign();
    await gcs.bucket(env.GCS_BUCKET!).file(name).delete();
    expect(await replicate({ kind: 'delete', ref: { ...ref(name), generation } })).toMatchObject({ status: 'deleted' });
    expect(await headS3(s3, env.S3_BUCKET!, key)).toBeUndefined();
  });
});

describe('keys over S3\'s 1,024 bytes', () => {
  it('every kind of event ends in a permanent KeyTooLongError before any request to S3 or GCS', async () => {
    // Ten 101-byte segments (fake-gcs-server and MinIO keep objects as files: segments stay under 255 bytes).
    const name = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(101, 'x')).join('/');
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(prefix + name)).toBeGreaterThan(1024);
    const generation = await upload(name, Buffer.from('long name'));
    const [resource] = await gcs.bucket(env.GCS_BUCKET!).file(name).getMetadata();
    const listed = toSourceObject(ref(name, generation), resource);

    const s3Proxy = await startTcpProxy(Number(new URL(env.AWS_ENDPOINT_URL_S3!).port));
    const gcsProxy = await startTcpProxy(Number(new URL(env.STORAGE_EMULATOR_HOST!).port));
    const runtime = runtimeFor({ AWS_ENDPOINT_URL_S3: s3Proxy.url, STORAGE_EMULATOR_HOST: gcsProxy.url });
    try {
      const cases: Array<[ObjectEvent, Parameters<typeof replicateObject>[3]]> = [
        [{ kind: 'finalize', ref: ref(name, generation) }, undefined],
        [{ kind: 'finalize', ref: ref(name) }, undefined],
        [{ kind: 'finalize', ref: ref(name, generation) }, { source: listed, absentInSink: true }],
        [{ kind: 'metadataUpdate', ref: { ...ref(name), generation } }, undefined],
        [{ kind: 'delete', ref: { ...ref(name), generation } }, undefined],
      ];
      for (const [event, hints] of cases) {
        const outcome = await replicateObject(event, runtime.deps, signal, hints);
        expect(outcome, `${event.kind} ${hints ? 'with hints' : ''}`).toMatchObject({ status: 'failed', retryable: false });
        if (outcome.status === 'failed') expect(outcome.error.message).toMatch(/over S3's 1024-byte key limit/);
      }
      expect({ s3: s3Proxy.connections, gcs: gcsProxy.connections }).toEqual({ s3: 0, gcs: 0 });
    } finally {
      runtime.close();
      await s3Proxy.close();
      await gcsProxy.close();
    }
  });
});

/** A Source reporting other header values than GCS holds, as GCS's JSON API could report them. */
class HeaderOverride implements Source {
  constructor(
    private readonly inner: Source,
    private readonly headers: Partial<SourceObject>,
  ) {}

  async stat(r: ObjectRef, s: AbortSignal): Promise<SourceObject | undefined> {
    const found = await this.inner.stat(r, s);
    return found === undefined ? undefined : { ...found, ...this.headers };
  }

  read(object: SourceObject, s: AbortSignal): Readable {
    return this.inner.read(object, s);
  }
}

describe('header values HTTP cannot carry', () => {
  const headersOf = async (key: string) => {
    const out = await headS3(s3, env.S3_BUCKET!, key);
    return {
      contentType: out?.ContentType,
      contentLanguage: out?.ContentLanguage,
      cacheControl: out?.CacheControl,
      contentEncoding: out?.ContentEncoding,
      contentDisposition: out?.ContentDisposition,
    };
  };
  const decoded = (headers: Record<string, string | undefined>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === undefined ? undefined : decodeMetadataValue(v)]));

  it('non-ASCII header values from GCS are copied RFC 2047-encoded, not retried for ever', async () => {
    const name = 'headers/non-ascii.txt';
    const headers = { contentType: 'text/plain; name="日本語.txt"', contentLanguage: 'français', cacheControl: 'max-age=60, ünïcode', contentDisposition: 'attachment; filename="ça.txt"' };
    const generation = await upload(name, Buffer.from('x'), headers);
    expect(await replicate({ kind: 'finalize', ref: ref(name, generation) })).toMatchObject({ status: 'copied' });
    const stored = await headersOf(prefix + name);
    for (const value of Object.values(stored)) if (value !== undefined) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(decoded(stored)).toMatchObject(headers);
  });

  it('control characters are encoded too', async () => {
    const name = 'headers/control.txt';
    const generation = await upload(name, Buffer.from('x'));
    const odd = { contentType: 'text/plain\u0007', contentLanguage: 'fr\r\nX-Evil: 1', cacheControl: 'no-cache\u007f', contentEncoding: 'identity\u0000' };
    const outcome = await replicate({ kind: 'finalize', ref: ref(name, generation) }, {}, (s) => new HeaderOverride(s, odd));
    expect(outcome).toMatchObject({ status: 'copied' });
    expect(decoded(await headersOf(prefix + name))).toMatchObject(odd);
  });

  it('headers over the request limit fail permanently, naming the limit', async () => {
    const name = 'headers/huge.txt';
    const generation = await upload(name, Buffer.from('x'));
    const outcome = await replicate({ kind: 'finalize', ref: ref(name, generation) }, {}, (s) => new HeaderOverride(s, { cacheControl: `max-age=1, ${'x'.repeat(8192)}` }));
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    if (outcome.status === 'failed') expect((outcome.error as { code?: string }).code).toBe('MetadataTooLarge');
    await s3.send(new DeleteObjectCommand({ Bucket: env.S3_BUCKET!, Key: prefix + name }));
  });
});
