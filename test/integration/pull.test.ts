import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PubSub, Subscription, Topic } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventPolicyFromConfig } from '../../src/events/types.js';
import { createLogger } from '../../src/log/logger.js';
import { EventPipeline } from '../../src/pipeline/event-pipeline.js';
import { runPullWorker, type MessageSource } from '../../src/pull/pull-worker.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { startCli, stopAll, type Worker } from '../support/processes.js';
import { createTestSubscription, createTestTopic, pubsubClient } from '../support/pubsub.js';
import { adminS3, gcsClient, headS3, listMultipartUploads, readS3, stackConfig, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const MiB = 1024 * 1024;
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let pubsub: PubSub;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  pubsub = pubsubClient();
});

afterAll(async () => {
  await stopAll();
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await pubsub?.close();
  s3?.destroy();
});

async function upload(name: string, bytes: Buffer): Promise<string> {
  const file = gcs.bucket(env.GCS_BUCKET!).file(name);
  await file.save(bytes, { resumable: false, validation: false });
  const [meta] = await file.getMetadata();
  return String(meta.generation);
}

async function notificationSubscription(): Promise<Subscription> {
  const sub = await createTestSubscription(pubsub, env.PUBSUB_TOPIC!);
  cleanups.push(() => sub.delete());
  return sub;
}

/** Polls until S3 holds `generation` at `key` (or, with undefined, until the key is gone). */
async function waitForS3(key: string, generation: string | undefined, timeoutMs = 60_000, bucket = env.S3_BUCKET!): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await headS3(s3, bucket, key);
    if (generation === undefined ? head === undefined : head?.Metadata?.['gcs-generation'] === generation) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${key} has generation ${head?.Metadata?.['gcs-generation'] ?? 'none'}, want ${generation ?? 'none'}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A bucket with versioning, so every write to a key leaves a version we can count. */
async function versionedBucket(): Promise<string> {
  const bucket = `gcs2s3-versions-${randomBytes(4).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  return bucket;
}

async function countVersions(bucket: string, key: string): Promise<number> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Versions ?? []).filter((v) => v.Key === key).length;
}

function workerEnv(prefix: string, subscription: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, ...stackEnv(), PUBSUB_SUBSCRIPTION: subscription, INCLUDE_PREFIXES: prefix, ...extra };
}

/** A GCS notification as fake-gcs-server publishes it, built for an existing object. */
function notification(eventType: string, name: string, generation: string, extra: Record<string, string> = {}) {
  return {
    data: Buffer.from(JSON.stringify({ kind: 'storage#object', bucket: env.GCS_BUCKET, name, generation, timeCreated: new Date().toISOString() })),
    attributes: { eventType, payloadFormat: 'JSON_API_V1', bucketId: env.GCS_BUCKET!, objectId: name, objectGeneration: generation, eventTime: new Date().toISOString(), ...extra },
  };
}

/** Runs the real worker in this process on `subscription` until the returned stop() is called. */
function inProcessWorker(subscription: Subscription, overrides: Record<string, string>) {
  const config = stackConfig(overrides, 'pull');
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const runtime = buildRuntime(config, logger);
  const controller = new AbortController();
  const done = runPullWorker({ subscription: subscription as unknown as MessageSource, pipeline: new EventPipeline({ deps: runtime.deps, logger }), policy: eventPolicyFromConfig(config), logger }, controller.signal);
  return {
    lines,
    async stop() {
      controller.abort();
      await done;
      runtime.close();
    },
  };
}

describe('pull worker, end to end: upload → notification → Pub/Sub → worker → S3', () => {
  let worker: Worker;
  let prefix: string;

  beforeAll(async () => {
    prefix = uniquePrefix('pull');
    const sub = await notificationSubscription();
    worker = startCli(['pull'], workerEnv(prefix, sub.name, { REPLICATE_DELETES: 'true', LOG_LEVEL: 'debug' }));
    await worker.waitFor((l) => l.message === 'pull worker started');
  });

  afterAll(async () => {
    expect(await worker.stop()).toBe(0);
  });

  it('replicates an upload with nobody doing anything', async () => {
    const bytes = randomBytes(64 * 1024);
    const generation = await upload(`${prefix}hello.bin`, bytes);
    await waitForS3(`${prefix}hello.bin`, generation);
    const { bytes: got } = await readS3(s3, env.S3_BUCKET!, `${prefix}hello.bin`);
    expect(got.equals(bytes)).toBe(true);
    const line = await worker.waitFor((l) => l.object === `gs://${env.GCS_BUCKET}/${prefix}hello.bin` && l.outcome === 'copied');
    expect(line).toMatchObject({ severity: 'INFO', generation, bytes: bytes.length, via: 'pull' });
    expect(typeof line.lagSeconds).toBe('number');
  });

  it('ends with the last generation after three quick overwrites', async () => {
    const name = `${prefix}overwritten.txt`;
    const generations: string[] = [];
    for (let i = 1; i <= 4; i++) generations.push(await upload(name, Buffer.from(`version ${i}`)));
    await waitForS3(name, generations.at(-1));
    // Let every notification be handled, then check nothing older came back.
    await new Promise((r) => setTimeout(r, 3000));
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, name);
    expect(bytes.toString()).toBe('version 4');
    expect(out.Metadata?.['gcs-generation']).toBe(generations.at(-1));
  });

  it('deletes with REPLICATE_DELETES=true, but not on the delete of an overwritten generation', async () => {
    const name = `${prefix}to-delete.txt`;
    const g1 = await upload(name, Buffer.from('one'));
    await waitForS3(name, g1);
    const g2 = await upload(name, Buffer.from('two'));
    await waitForS3(name, g2);
    // The overwrite's DELETE of g1 (overwrittenByGeneration) must not remove the S3 copy.
    await pubsub.topic(env.PUBSUB_TOPIC!).publishMessage(notification('OBJECT_DELETE', name, g1, { overwrittenByGeneration: g2 }));
    await worker.waitFor((l) => l.messageId !== undefined && l.reason !== undefined && String(l.object ?? '').endsWith(name) && l.outcome === 'ignored');
    expect((await headS3(s3, env.S3_BUCKET!, name))?.Metadata?.['gcs-generation']).toBe(g2);
    // A real delete of the live object removes it.
    await gcs.bucket(env.GCS_BUCKET!).file(name).delete();
    await waitForS3(name, undefined);
  });
});

describe('redelivery and disorder', () => {
  it('five deliveries of one notification, and g2 before g1, leave S3 at g2 with one write each', async () => {
    const topic: Topic = await createTestTopic(pubsub);
    cleanups.push(() => topic.delete());
    const sub = await createTestSubscription(pubsub, topic);
    cleanups.push(() => sub.delete());
    const bucket = await versionedBucket();
    const prefix = uniquePrefix('redeliver');
    const once = `${prefix}five-times.txt`;
    const g = await upload(once, Buffer.from('only once'));
    const pair = `${prefix}disorder.txt`;
    const g1 = await upload(pair, Buffer.from('first'));
    const g2 = await upload(pair, Buffer.from('second'));
    const worker = inProcessWorker(sub, { S3_BUCKET: bucket });
    try {
      for (let i = 0; i < 5; i++) await topic.publishMessage(notification('OBJECT_FINALIZE', once, g));
      await topic.publishMessage(notification('OBJECT_FINALIZE', pair, g2));
      await waitForS3(pair, g2, 30_000, bucket);
      await topic.publishMessage(notification('OBJECT_FINALIZE', pair, g1));
      await waitForS3(once, g, 30_000, bucket);
      const settled = Date.now() + 20_000;
      while (worker.lines.filter((l) => l.via === 'pull' && l.outcome !== undefined).length < 7 && Date.now() < settled) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await worker.stop();
    }
    expect(await countVersions(bucket, once)).toBe(1);
    expect(await countVersions(bucket, pair)).toBe(1);
    const { bytes, out } = await readS3(s3, bucket, pair);
    expect(bytes.toString()).toBe('second');
    expect(out.Metadata?.['gcs-generation']).toBe(g2);
    const outcomes = worker.lines.filter((l) => l.via === 'pull').map((l) => `${l.object}:${l.outcome}:${l.reason ?? ''}`);
    expect(outcomes.filter((o) => o.includes('five-times') && o.includes(':skipped:already-current'))).toHaveLength(4);
    expect(outcomes.filter((o) => o.includes('disorder') && o.includes(':skipped:newer-at-destination'))).toHaveLength(1);
  });

  it('acks a poison message once and logs it, instead of retrying forever', async () => {
    const topic = await createTestTopic(pubsub);
    cleanups.push(() => topic.delete());
    const sub = await createTestSubscription(pubsub, topic, 10);
    cleanups.push(() => sub.delete());
    const worker = inProcessWorker(sub, {});
    try {
      await topic.publishMessage({ data: Buffer.from('not json at all'), attributes: { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: env.GCS_BUCKET!, objectId: 'x', objectGeneration: '12' } });
      await topic.publishMessage({ data: Buffer.from('{}'), attributes: { eventType: 'OBJECT_FINALIZE', bucketId: env.GCS_BUCKET!, objectId: 'x', objectGeneration: 'not-a-number' } });
      // Past the 10 s ack deadline: an unacked message would have come back.
      await new Promise((r) => setTimeout(r, 14_000));
    } finally {
      await worker.stop();
    }
    const malformed = worker.lines.filter((l) => l.outcome === 'malformed');
    expect(malformed).toHaveLength(2);
    expect(malformed.every((l) => l.severity === 'ERROR')).toBe(true);
    expect(String(malformed.map((l) => l.reason).join(' '))).toMatch(/objectGeneration/);
  }, 60_000);
});

describe('failures and shutdown', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(Number(new URL(env.AWS_ENDPOINT_URL_S3!).port));
    cleanups.push(() => proxy.close());
  });

  it('nacks while S3 is down and delivers the object once it is back', async () => {
    const prefix = uniquePrefix('s3down');
    const sub = await notificationSubscription();
    const worker = startCli(['pull'], workerEnv(prefix, sub.name, { AWS_ENDPOINT_URL_S3: proxy.url }));
    try {
      await worker.waitFor((l) => l.message === 'pull worker started');
      await proxy.down();
      const generation = await upload(`${prefix}patient.txt`, Buffer.from('wait for me'));
      const failed = await worker.waitFor((l) => l.outcome === 'failed', 60_000);
      expect(failed).toMatchObject({ severity: 'WARNING', retryable: true });
      await new Promise((r) => setTimeout(r, 3000));
      await proxy.up();
      await waitForS3(`${prefix}patient.txt`, generation, 90_000);
    } finally {
      await proxy.up().catch(() => undefined);
      expect(await worker.stop()).toBe(0);
    }
  }, 150_000);

  it('on SIGTERM mid-copy exits within 10 s, keeps the large upload for the redelivered message, which completes the copy', async () => {
    const prefix = uniquePrefix('sigterm');
    const sub = await notificationSubscription();
    const name = `${prefix}large.bin`;
    const bytes = randomBytes(80 * MiB);
    // Per connection and direction: two parts in flight move ~4 MiB/s, so the copy outlives the drain.
    proxy.throttle(2 * MiB);
    const slow = startCli(['pull'], workerEnv(prefix, sub.name, { AWS_ENDPOINT_URL_S3: proxy.url, PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2' }));
    let generation: string;
    try {
      await slow.waitFor((l) => l.message === 'pull worker started');
      generation = await upload(name, bytes);
      // Wait until the multipart upload is really under way.
      const deadline = Date.now() + 60_000;
      while ((await listMultipartUploads(s3, env.S3_BUCKET!, name)).length === 0) {
        if (Date.now() > deadline) throw new Error('multipart upload never started');
        await new Promise((r) => setTimeout(r, 200));
      }
      const t0 = Date.now();
      const code = await slow.stop('SIGTERM');
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(code).toBe(0);
    } finally {
      proxy.throttle(undefined);
      await slow.stop('SIGKILL');
    }
    // 16 parts: a large copy keeps its parts for the next attempt to resume (docs/resumable-copies.md);
    // none if the stop came before its fingerprint part landed.
    expect((await listMultipartUploads(s3, env.S3_BUCKET!, name)).length).toBeLessThanOrEqual(1);
    expect(await headS3(s3, env.S3_BUCKET!, name)).toBeUndefined();
    expect(slow.lines.some((l) => l.outcome === 'failed' && l.retryable === true)).toBe(true);
    const next = startCli(['pull'], workerEnv(prefix, sub.name));
    try {
      await waitForS3(name, generation!, 90_000);
    } finally {
      expect(await next.stop()).toBe(0);
    }
    const { bytes: got } = await readS3(s3, env.S3_BUCKET!, name);
    expect(got.equals(bytes)).toBe(true);
    // The kept upload was the one completed: nothing is left behind.
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, name)).toEqual([]);
  }, 180_000);
});

describe('lease extension', () => {
  it('a copy longer than the ack deadline is not redelivered to another worker mid-copy', async () => {
    const proxy = await startTcpProxy(Number(new URL(env.AWS_ENDPOINT_URL_S3!).port));
    cleanups.push(() => proxy.close());
    // Per connection and direction; ~20 MiB over two connections at 1 MiB/s each: ~10+ s per copy, past the 10 s deadline.
    proxy.throttle(1 * MiB);
    const bucket = await versionedBucket();
    const prefix = uniquePrefix('lease');
    const sub = await notificationSubscription(); // ack deadline 10 s
    const extra = { AWS_ENDPOINT_URL_S3: proxy.url, S3_BUCKET: bucket, PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2' };
    const workers = [0, 1].map(() => startCli(['pull'], workerEnv(prefix, sub.name, extra)));
    const name = `${prefix}slow.bin`;
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l.message === 'pull worker started')));
      const started = Date.now();
      const generation = await upload(name, randomBytes(24 * MiB));
      await waitForS3(name, generation, 120_000, bucket);
      expect(Date.now() - started).toBeGreaterThan(12_000);
      // Past another deadline: a lost lease would show as a second delivery now.
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      for (const w of workers) await w.stop();
    }
    const handled = workers.flatMap((w) => w.lines.filter((l) => l.object === `gs://${env.GCS_BUCKET}/${name}`));
    expect(handled.map((l) => l.outcome)).toEqual(['copied']);
    expect(await countVersions(bucket, name)).toBe(1);
  }, 180_000);
});

describe('scale-out', () => {
  it('two workers on one subscription replicate 200 objects, every one correct', async () => {
    const prefix = uniquePrefix('scale');
    const sub = await notificationSubscription();
    const workers = [0, 1].map(() => startCli(['pull'], workerEnv(prefix, sub.name)));
    try {
      await Promise.all(workers.map((w) => w.waitFor((l) => l.message === 'pull worker started')));
      const objects = Array.from({ length: 200 }, (_, i) => ({ name: `${prefix}obj-${String(i).padStart(3, '0')}.bin`, bytes: randomBytes(1024 + i) }));
      const generations = new Map<string, string>();
      for (let i = 0; i < objects.length; i += 20) {
        await Promise.all(objects.slice(i, i + 20).map(async (o) => generations.set(o.name, await upload(o.name, o.bytes))));
      }
      for (const o of objects) await waitForS3(o.name, generations.get(o.name), 120_000);
      for (const o of objects) {
        const { bytes } = await readS3(s3, env.S3_BUCKET!, o.name);
        expect(bytes.equals(o.bytes)).toBe(true);
      }
      const copiedBy = workers.map((w) => w.lines.filter((l) => l.outcome === 'copied').length);
      expect(copiedBy[0]! + copiedBy[1]!).toBeGreaterThanOrEqual(200);
      expect(copiedBy.every((n) => n > 0)).toBe(true);
    } finally {
      for (const w of workers) expect(await w.stop()).toBe(0);
    }
  }, 240_000);
});
