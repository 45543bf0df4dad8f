/**
 * HTTP faults Toxiproxy cannot make, from a fault proxy between the worker and
 * MinIO (S3 and STS) and fake-gcs-server: throttling and server errors, a 200
 * whose body is an error, STS's IDPCommunicationError, GCS's 429 and 503, and
 * a session credential rejected mid-upload. Each shows the worker riding
 * through (bounded retries with backoff and jitter, or a failed attempt nacked
 * and redelivered) and reads the object back from S3.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gcsError, gcsKind, s3Error, s3Kind, startFaultProxy, stsError, stsKind, type FaultProxy } from '../support/fault-proxy.js';
import { expectReplicated, startFaultWorker, type FaultWorker, type LogLine } from '../support/fault-worker.js';
import { pubsubClient } from '../support/pubsub.js';
import { adminS3, gcsClient, stackEnv, uniquePrefix, uploadToGcs, useStackEnv } from '../support/stack.js';

const MiB = 1024 * 1024;
let gcs: Storage;
let s3: S3Client;
let pubsub: PubSub;
let proxies: { s3: FaultProxy; sts: FaultProxy; gcs: FaultProxy };
let worker: FaultWorker | undefined;

beforeAll(async () => {
  const env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  pubsub = pubsubClient();
  const port = (url: string) => Number(new URL(url).port);
  proxies = {
    s3: await startFaultProxy(port(env.AWS_ENDPOINT_URL_S3!), s3Kind),
    sts: await startFaultProxy(port(env.AWS_ENDPOINT_URL_STS!), stsKind),
    gcs: await startFaultProxy(port(env.STORAGE_EMULATOR_HOST!), gcsKind),
  };
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  for (const p of Object.values(proxies)) {
    p.clear();
    p.counts.clear();
  }
});

afterAll(async () => {
  for (const p of Object.values(proxies ?? {})) await p.close();
  await pubsub?.close();
  s3?.destroy();
});

async function workerThroughProxies(): Promise<FaultWorker> {
  worker = await startFaultWorker(pubsub, {
    AWS_ENDPOINT_URL_S3: proxies.s3.url,
    AWS_ENDPOINT_URL_STS: proxies.sts.url,
    STORAGE_EMULATOR_HOST: proxies.gcs.url,
    CONNECT_TIMEOUT_SECONDS: '1',
    STALL_TIMEOUT_SECONDS: '2',
    PART_SIZE_MIB: '5',
    PART_QUEUE_SIZE: '2',
  });
  return worker;
}

/** 6 MiB: a multipart upload of two parts (5 MiB and 1 MiB). */
async function sourceObject(label: string, size = 6 * MiB) {
  const name = `${uniquePrefix(label)}object.bin`;
  const bytes = randomBytes(size);
  const headers = { contentType: 'application/x-fault-test', metadata: { fault: label } };
  const generation = await uploadToGcs(gcs, stackEnv().GCS_BUCKET!, name, bytes, headers);
  return { name, bytes, generation, contentType: headers.contentType, metadata: headers.metadata };
}

/** Copies `o` through the proxies; resolves with the worker once the copy is logged. */
async function copyThroughFaults(o: { name: string; generation: string }): Promise<FaultWorker> {
  const w = await workerThroughProxies();
  await w.notify(o.name, o.generation);
  await w.waitFor(copied(o.name));
  return w;
}

const failed = (name: string) => (l: LogLine) => String(l.object).endsWith(name) && l.outcome === 'failed';
const copied = (name: string) => (l: LogLine) => String(l.object).endsWith(name) && l.outcome === 'copied';

describe('HTTP faults from the fault proxy', () => {
  it('S3 503 SlowDown on parts: the SDK backs off and retries them, one delivery copies', async () => {
    const o = await sourceObject('slowdown');
    const slowDown = proxies.s3.inject('UploadPart', { status: 503, body: s3Error('SlowDown', 'Please reduce your request rate.') }, 2);
    const w = await copyThroughFaults(o);
    expect(slowDown.hits).toBe(2);
    // The object's 2 data parts, the 2 refused tries, and the upload's fingerprint part (docs/resumable-copies.md).
    expect(proxies.s3.count('UploadPart')).toBe(5);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('S3 500 InternalError on CompleteMultipartUpload: retried, one delivery copies', async () => {
    const o = await sourceObject('internal-error');
    proxies.s3.inject('CompleteMultipartUpload', { status: 500, body: s3Error('InternalError', 'We encountered an internal error. Please try again.') }, 1);
    const w = await copyThroughFaults(o);
    expect(proxies.s3.count('CompleteMultipartUpload')).toBe(2);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('a 200 CompleteMultipartUpload whose body is an <Error>: not taken for success, retried, copies', async () => {
    const o = await sourceObject('error-in-200');
    proxies.s3.inject('CompleteMultipartUpload', { status: 200, body: s3Error('InternalError', 'We encountered an internal error. Please try again.') }, 1);
    const w = await copyThroughFaults(o);
    expect(proxies.s3.count('CompleteMultipartUpload')).toBe(2);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('GCS 429 on the metadata read: the library retries it; 503 on the media read: that delivery fails and the next copies', async () => {
    const o = await sourceObject('gcs-errors', 256 * 1024);
    const tooMany = proxies.gcs.inject('metadata', gcsError(429, 'rateLimitExceeded', 'The rate of change requests to the object is too high.'), 1);
    const unavailable = proxies.gcs.inject('media', gcsError(503, 'backendError', 'Backend Error'), 1);
    const w = await copyThroughFaults(o);
    expect([tooMany.hits, unavailable.hits]).toEqual([1, 1]);
    expect(proxies.gcs.count('media')).toBe(2);
    // Media reads are one plain GET with no retries of their own (src/source/gcs-media-get.ts): the
    // 503 fails that delivery, transiently, and Pub/Sub's redelivery copies.
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['failed', 'copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('STS IDPCommunicationError twice: the credential provider backs off and retries, one delivery copies', async () => {
    const o = await sourceObject('idp', 64 * 1024);
    proxies.sts.inject('AssumeRoleWithWebIdentity', { status: 400, body: stsError('IDPCommunicationError', 'The request could not be fulfilled because the non-AWS identity provider (IDP) that was asked to verify the incoming identity token could not be reached.') }, 2);
    const w = await copyThroughFaults(o);
    expect(proxies.sts.count('AssumeRoleWithWebIdentity')).toBe(3);
    expect(w.lines.filter((l) => l.message === 'STS call failed; retrying')).toHaveLength(2);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it.each([
    ['InvalidAccessKeyId', 'The Access Key Id you provided does not exist in our records.'],
    ['ExpiredToken', 'The provided token has expired.'],
  ])('the session credential rejected mid-upload (%s): refreshed, the part resent, one delivery copies', async (code, message) => {
    const o = await sourceObject(`expired-${code}`);
    const rejected = proxies.s3.inject('UploadPart', { status: 403, body: s3Error(code, message) }, 1);
    const w = await copyThroughFaults(o);
    expect(rejected.hits).toBe(1);
    expect(w.lines.some((l) => l.message === 'S3 rejected the session credential; refreshing and retrying once' && l.code === code)).toBe(true);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('S3 throttling that outlasts the SDK retries: the attempt gives up, aborts its upload, and the redelivery copies', async () => {
    const o = await sourceObject('give-up');
    proxies.s3.inject('UploadPart', { status: 503, body: s3Error('SlowDown', 'Please reduce your request rate.') }, 1000);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(failure).toMatchObject({ retryable: true });
    expect(String(failure.message)).toMatch(/SlowDown \(HTTP 503\)/);
    await w.waitFor(() => proxies.s3.count('AbortMultipartUpload') > 0);
    proxies.s3.clear();
    await w.waitFor(copied(o.name));
    // Every failed attempt aborted its multipart upload: none is left.
    await expectReplicated(s3, o.name, o);
  });
});
