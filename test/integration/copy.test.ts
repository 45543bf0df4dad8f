import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, startOidcFixture, type OidcFixture } from '../../scripts/oidc-fixture.js';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime, type RuntimeOverrides } from '../../src/main/runtime.js';
import type { ObjectEvent } from '../../src/model.js';
import { replicateObject } from '../../src/replicate/replicate-object.js';
import type { S3Sink } from '../../src/sink/s3-sink.js';
import { adminS3, gcsClient, headS3, listMultipartUploads, readS3, ROOT, stackConfig, stackEnv, uniquePrefix, useStackEnv, uploadToGcs } from '../support/stack.js';
import { ThrottledSource } from '../support/throttled-source.js';

const MiB = 1024 * 1024;
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let fixture: OidcFixture;
let prefix: string;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('copy');
  // A second metadata server/issuer with the stack's signing key: mints tokens MinIO trusts.
  fixture = await startOidcFixture({ port: 0, keyFile: env.OIDC_FIXTURE_KEY_FILE, issuer: env.PUSH_OIDC_ISSUER });
});

afterAll(async () => {
  await fixture?.close();
  s3?.destroy();
});

function upload(name: string, bytes: Buffer, metadata: Record<string, unknown> = {}): Promise<string> {
  return uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes, metadata);
}

function runtimeFor(overrides: Record<string, string> = {}, runtimeOverrides: RuntimeOverrides = {}) {
  return buildRuntime(stackConfig({ S3_KEY_PREFIX: prefix, ...overrides }), silentLogger, runtimeOverrides);
}

async function copy(name: string, generation?: string, runtime = runtimeFor()) {
  const event: ObjectEvent = { kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation } };
  return replicateObject(event, runtime.deps, new AbortController().signal);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

describe('gcs2s3 copy on the local stack', () => {
  it.each([
    ['a 0-byte object', 'empty.bin', Buffer.alloc(0), { contentType: 'application/octet-stream' }],
    ['a non-ASCII object name', 'données/日本語 ファイル ✓ #1.txt', Buffer.from('bonjour'), { contentType: 'text/plain; charset=utf-8' }],
    [
      'an object with custom metadata and every copied header',
      'meta/report.csv',
      Buffer.from('a,b\n1,2\n'),
      {
        contentType: 'text/csv',
        cacheControl: 'public, max-age=60',
        contentDisposition: 'attachment; filename="report.csv"',
        contentLanguage: 'en',
        metadata: { owner: 'data-team', 'Mixed-Case': 'Yes', note: 'café ☕' },
      },
    ],
  ])('copies %s byte-for-byte with its headers', async (_label, name, bytes, metadata) => {
    const generation = await upload(name, bytes, metadata);
    const runtime = runtimeFor();
    try {
      const outcome = await copy(name, generation, runtime);
      expect(outcome).toMatchObject({ status: 'copied', generation, bytes: bytes.length });
    } finally {
      runtime.close();
    }
    const [gcsMeta] = await gcs.bucket(env.GCS_BUCKET!).file(name).getMetadata();
    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(got.equals(bytes)).toBe(true);
    expect(out.ContentType).toBe(metadata.contentType);
    expect(out.CacheControl).toBe((metadata as { cacheControl?: string }).cacheControl);
    expect(out.ContentDisposition).toBe((metadata as { contentDisposition?: string }).contentDisposition);
    expect(out.ContentLanguage).toBe((metadata as { contentLanguage?: string }).contentLanguage);
    expect(out.Metadata).toMatchObject({ 'gcs-bucket': env.GCS_BUCKET, 'gcs-generation': generation, 'gcs-crc32c': gcsMeta.crc32c });
    for (const [k, v] of Object.entries((metadata as { metadata?: Record<string, string> }).metadata ?? {})) {
      const stored = out.Metadata?.[k.toLowerCase()];
      expect(stored === v || decodeURIComponent(escape(stored ?? '')) === v || decodeRfc2047(stored ?? '') === v).toBe(true);
    }
    // S3's own full-object CRC32C equals GCS's.
    expect(out.ChecksumCRC32C).toBe(gcsMeta.crc32c);
  });

  it('keeps a gzip-encoded object compressed, with its Content-Encoding', async () => {
    const plain = Buffer.from('compress me '.repeat(5000));
    const gz = gzipSync(plain);
    const name = 'gz/page.html';
    const generation = await upload(name, gz, { contentType: 'text/html', contentEncoding: 'gzip' });
    const runtime = runtimeFor();
    try {
      expect(await copy(name, generation, runtime)).toMatchObject({ status: 'copied', bytes: gz.length });
    } finally {
      runtime.close();
    }
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(out.ContentEncoding).toBe('gzip');
    expect(bytes.length).toBe(gz.length);
    expect(md5(bytes)).toBe(md5(gz));
  });

  it('streams a 41 MiB object in several parts, with S3 holding the full-object CRC32C', async () => {
    const bytes = randomBytes(41 * MiB);
    const name = 'big/blob.bin';
    const generation = await upload(name, bytes);
    const runtime = runtimeFor({ PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '3' });
    try {
      expect(await copy(name, generation, runtime)).toMatchObject({ status: 'copied', bytes: bytes.length });
    } finally {
      runtime.close();
    }
    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(md5(got)).toBe(md5(bytes));
    const [gcsMeta] = await gcs.bucket(env.GCS_BUCKET!).file(name).getMetadata();
    expect(out.ChecksumCRC32C).toBe(gcsMeta.crc32c);
    expect(out.ChecksumType).toBe('FULL_OBJECT');
    // A multipart ETag ends in -<parts>: 41 MiB in 5 MiB parts is 9.
    expect(out.ETag).toMatch(/-9"$/);
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, prefix + name)).toEqual([]);
  });

  it.each([
    ['exactly one part', 5 * MiB, /^"[0-9a-f]{32}"$/],
    ['one byte over one part', 5 * MiB + 1, /-2"$/],
    ['exactly two parts', 10 * MiB, /-2"$/],
  ])('splits at part boundaries: %s', async (_label, size, etag) => {
    const bytes = randomBytes(size);
    const name = `edges/${size}.bin`;
    const generation = await upload(name, bytes);
    const runtime = runtimeFor({ PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2' });
    try {
      expect(await copy(name, generation, runtime)).toMatchObject({ status: 'copied', bytes: size });
    } finally {
      runtime.close();
    }
    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(got.equals(bytes)).toBe(true);
    expect(out.ETag).toMatch(etag);
    const [gcsMeta] = await gcs.bucket(env.GCS_BUCKET!).file(name).getMetadata();
    expect(out.ChecksumCRC32C).toBe(gcsMeta.crc32c);
  });

  it('never holds more part buffers than MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE, even with more objects at once', async () => {
    const objects = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const bytes = randomBytes(16 * MiB + i);
        const name = `bounded/${i}.bin`;
        return { name, bytes, generation: await upload(name, bytes) };
      }),
    );
    const runtime = runtimeFor({ PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2', MAX_CONCURRENT_OBJECTS: '2' });
    try {
      const outcomes = await Promise.all(objects.map((o) => copy(o.name, o.generation, runtime)));
      expect(outcomes.map((o) => o.status)).toEqual(['copied', 'copied', 'copied']);
      const buffers = (runtime.deps.sink as unknown as S3Sink).partBuffers;
      expect(buffers.allocated).toBeLessThanOrEqual(4);
      expect(buffers.peakInUse).toBeLessThanOrEqual(4);
      // Three objects of four parts each did share them: more than one object's worth was in use at once.
      expect(buffers.peakInUse).toBeGreaterThan(2);
      expect(buffers.inUse).toBe(0);
    } finally {
      runtime.close();
    }
    for (const o of objects) {
      const { bytes } = await readS3(s3, env.S3_BUCKET!, prefix + o.name);
      expect(md5(bytes)).toBe(md5(o.bytes));
    }
  });

  it('skips a second copy of the same generation without reading it, and never lets an older generation replace a newer one', async () => {
    const name = 'gens/object.txt';
    const g1 = await upload(name, Buffer.from('generation one'));
    const g2 = await upload(name, Buffer.from('generation two'));
    const runtime = runtimeFor();
    let reads = 0;
    const counting = { ...runtime.deps, source: { stat: runtime.deps.source.stat.bind(runtime.deps.source), read: (o: Parameters<typeof runtime.deps.source.read>[0], s: AbortSignal) => (reads++, runtime.deps.source.read(o, s)) } };
    try {
      const signal = new AbortController().signal;
      expect(await replicateObject({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation: g2 } }, counting, signal)).toMatchObject({ status: 'copied' });
      const before = await headS3(s3, env.S3_BUCKET!, prefix + name);
      expect(await replicateObject({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation: g2 } }, counting, signal)).toMatchObject({ status: 'skipped', reason: 'already-current' });
      expect(await replicateObject({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation: g1 } }, counting, signal)).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
      expect(reads).toBe(1);
      const after = await headS3(s3, env.S3_BUCKET!, prefix + name);
      expect(after?.ETag).toBe(before?.ETag);
      expect(after?.LastModified?.getTime()).toBe(before?.LastModified?.getTime());
      expect(after?.Metadata?.['gcs-generation']).toBe(g2);
    } finally {
      runtime.close();
    }
  });

  it('aborts the upload on a corrupted stream: no object and no multipart upload left in S3', async () => {
    const name = 'corrupt/blob.bin';
    const generation = await upload(name, randomBytes(12 * MiB));
    const runtime = runtimeFor({ PART_SIZE_MIB: '5' });
    const real = runtime.deps.source;
    // A Source (our port) that flips one byte of the real GCS stream.
    const flipping = {
      stat: real.stat.bind(real),
      read(o: Parameters<typeof real.read>[0], s: AbortSignal) {
        let offset = 0;
        const target = 7 * MiB + 3;
        const stream = real.read(o, s);
        return stream.map((chunk: Buffer) => {
          if (target >= offset && target < offset + chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[target - offset]! ^= 0x01;
          }
          offset += chunk.length;
          return chunk;
        });
      },
    };
    try {
      const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation } }, { ...runtime.deps, source: flipping }, new AbortController().signal);
      expect(outcome).toMatchObject({ status: 'failed', retryable: true });
      if (outcome.status === 'failed') expect(outcome.error.message).toMatch(/CRC32C of the streamed bytes/);
    } finally {
      runtime.close();
    }
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, prefix + name)).toEqual([]);
  });

  it('makes exactly one STS call for 50 concurrent copies on cold credentials', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `fifty/obj-${i}.txt`);
    const generations = await Promise.all(names.map((n, i) => upload(n, Buffer.from(`object ${i}`))));
    let stsCalls = 0;
    const runtime = runtimeFor({}, { wrapAssumeRole: (assume) => async (p) => (stsCalls++, assume(p)) });
    try {
      const outcomes = await Promise.all(names.map((n, i) => copy(n, generations[i], runtime)));
      expect(outcomes.map((o) => o.status)).toEqual(names.map(() => 'copied'));
    } finally {
      runtime.close();
    }
    expect(stsCalls).toBe(1);
    for (const [i, n] of names.entries()) {
      const { bytes } = await readS3(s3, env.S3_BUCKET!, prefix + n);
      expect(bytes.toString()).toBe(`object ${i}`);
    }
  });

  it('keeps copying when credentials expire during a multipart upload, with STS calls as the expiry implies', async () => {
    const lifetimeSeconds = 12;
    const short = await startOidcFixture({ port: 0, keyFile: env.OIDC_FIXTURE_KEY_FILE, issuer: env.PUSH_OIDC_ISSUER, tokenLifetimeSeconds: lifetimeSeconds });
    const bytes = randomBytes(30 * MiB);
    const name = 'expiring/blob.bin';
    const generation = await upload(name, bytes);
    let stsCalls = 0;
    const runtime = runtimeFor(
      { PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2' },
      {
        // No DurationSeconds: MinIO ends each session at the ID token's exp.
        omitDurationSeconds: true,
        fetchIdToken: async (audience) => {
          const res = await fetch(`${short.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`, { headers: { 'Metadata-Flavor': 'Google' } });
          return res.text();
        },
        wrapAssumeRole: (assume) => async (p) => {
          stsCalls++;
          const out = await assume(p);
          // MinIO really ends the session at the token's exp.
          expect(out.Credentials!.Expiration!.getTime() - Date.now()).toBeLessThanOrEqual(lifetimeSeconds * 1000 + 1000);
          return out;
        },
      },
    );
    const started = Date.now();
    try {
      const throttled = { ...runtime.deps, source: new ThrottledSource(runtime.deps.source, 1.25 * MiB) };
      const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: env.GCS_BUCKET!, name, generation } }, throttled, new AbortController().signal);
      expect(outcome).toMatchObject({ status: 'copied', bytes: bytes.length });
    } finally {
      runtime.close();
      await short.close();
    }
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(lifetimeSeconds * 1.5); // the upload outlived the first credentials
    // Refreshed at 2/3 of each lifetime: about one call per 8 s, never one per request (~10 requests here).
    const atLeast = Math.ceil(seconds / lifetimeSeconds);
    const atMost = Math.ceil(seconds / ((lifetimeSeconds * 2) / 3)) + 1;
    expect(stsCalls).toBeGreaterThanOrEqual(atLeast);
    expect(stsCalls).toBeLessThanOrEqual(atMost);
    const { bytes: got } = await readS3(s3, env.S3_BUCKET!, prefix + name);
    expect(md5(got)).toBe(md5(bytes));
  }, 180_000);
});

describe('MinIO verifies the Google ID token like AWS STS', () => {
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['a wrong audience', () => fixture.mintToken({ aud: 'someone-else' }), /AssumeRoleWithWebIdentity .* failed: \w+/],
    ['a bad signature', async () => fixture.mintToken({}, { signingKey: await generateSigningKey() }), /AssumeRoleWithWebIdentity .* failed: \w+/],
    ['an expired token', () => fixture.mintToken({ exp: Math.floor(Date.now() / 1000) - 600, iat: Math.floor(Date.now() / 1000) - 4200 }), /AssumeRoleWithWebIdentity .* failed: \w+/],
    ['alg none', () => fixture.mintToken({}, { unsigned: true }), /AssumeRoleWithWebIdentity .* failed: \w+/],
  ];

  it.each(cases)('refuses %s, and the copy fails naming STS', async (_label, mint, message) => {
    const name = `refused/${randomBytes(4).toString('hex')}.txt`;
    const generation = await upload(name, Buffer.from('never copied'));
    let minted = '';
    const runtime = runtimeFor({}, { fetchIdToken: async () => (minted = await mint()) });
    try {
      const outcome = await copy(name, generation, runtime);
      expect(outcome.status).toBe('failed');
      if (outcome.status !== 'failed') return;
      expect(outcome.error.name).toBe('CredentialsError');
      expect(outcome.error.message).toMatch(message);
      expect(outcome.error.message).not.toContain(minted);
    } finally {
      runtime.close();
    }
    expect(await headS3(s3, env.S3_BUCKET!, prefix + name)).toBeUndefined();
  });

  it('the CLI exits 1 with one clear line when the audience is wrong, and 2 on bad configuration', async () => {
    const name = 'cli/hello.txt';
    await upload(name, Buffer.from('hi'));
    const run = promisify(execFile);
    const base = { ...process.env, ...stackEnv(), S3_KEY_PREFIX: prefix };
    const wrong = await run('node', ['--import', 'tsx', 'src/cli.ts', 'copy', `gs://${env.GCS_BUCKET}/${name}`], { cwd: ROOT, env: { ...base, ID_TOKEN_AUDIENCE: 'not-the-client-id' } }).catch((e: { code: number; stderr: string }) => e);
    expect((wrong as { code: number }).code).toBe(1);
    expect((wrong as { stderr: string }).stderr).toMatch(/gcs2s3 copy: STS AssumeRoleWithWebIdentity for arn:minio:iam:::role\/\S+ failed: \w+/);
    const bad = await run('node', ['--import', 'tsx', 'src/cli.ts', 'copy', `gs://${env.GCS_BUCKET}/${name}`], { cwd: ROOT, env: { ...base, AWS_ROLE_ARN: 'nope' } }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/^gcs2s3 copy: AWS_ROLE_ARN: must be an IAM role ARN/m);
    const ok = await run('node', ['--import', 'tsx', 'src/cli.ts', 'copy', `gs://${env.GCS_BUCKET}/${name}`], { cwd: ROOT, env: base });
    // The result on stdout for scripts; the log (JSON: stderr is not a terminal) on stderr.
    expect(ok.stdout).toMatch(new RegExp(`^copied\tgs://${env.GCS_BUCKET}/${name}#\\d+\ts3://${env.S3_BUCKET}/${prefix}${name}\n$`));
    expect(ok.stderr).toMatch(/"outcome":"copied"/);
  });
});

function decodeRfc2047(value: string): string {
  const m = /^=\?UTF-8\?B\?(.*)\?=$/i.exec(value);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value;
}
