/**
 * Network faults on real connections: Toxiproxy between the worker and each
 * service it talks to (fake-gcs-server, MinIO's S3 API, MinIO's STS API, the
 * metadata server). Each test turns a fault on, shows the worker riding
 * through it (the SDKs' bounded retries, or a failed attempt nacked and the
 * message redelivered once the fault is gone), and reads the object back from
 * S3: exact bytes and headers, and no multipart upload left behind.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectReplicated, startFaultWorker, type FaultWorker, type LogLine } from '../support/fault-worker.js';
import { pubsubClient } from '../support/pubsub.js';
import { adminS3, gcsClient, stackEnv, uniquePrefix, uploadToGcs, useStackEnv } from '../support/stack.js';
import { startToxiproxy, type Proxy, type Toxiproxy } from '../support/toxiproxy.js';

const MiB = 1024 * 1024;
/** Ports of our own: the API, then one proxy per service. */
const PORTS = { api: 18474, gcs: 18401, s3: 18402, sts: 18403, metadata: 18404 };

let gcs: Storage;
let s3: S3Client;
let pubsub: PubSub;
let toxiproxy: Toxiproxy;
let proxies: Record<'gcs' | 's3' | 'sts' | 'metadata', Proxy>;
let worker: FaultWorker | undefined;

beforeAll(async () => {
  const env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  pubsub = pubsubClient();
  toxiproxy = await startToxiproxy(PORTS.api);
  const port = (url: string) => Number(new URL(url).port);
  proxies = {
    gcs: await toxiproxy.createProxy('gcs', PORTS.gcs, port(env.STORAGE_EMULATOR_HOST!)),
    s3: await toxiproxy.createProxy('s3', PORTS.s3, port(env.AWS_ENDPOINT_URL_S3!)),
    sts: await toxiproxy.createProxy('sts', PORTS.sts, port(env.AWS_ENDPOINT_URL_STS!)),
    metadata: await toxiproxy.createProxy('metadata', PORTS.metadata, port(`http://${env.GCE_METADATA_HOST!}`)),
  };
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await toxiproxy.reset();
});

afterAll(async () => {
  await toxiproxy?.close();
  await pubsub?.close();
  s3?.destroy();
});

/** A worker whose every connection goes through Toxiproxy, with deadlines of 1 s (connect) and 2 s (stall). */
async function workerThroughProxies(overrides: Record<string, string> = {}): Promise<FaultWorker> {
  worker = await startFaultWorker(pubsub, {
    STORAGE_EMULATOR_HOST: proxies.gcs.url,
    AWS_ENDPOINT_URL_S3: proxies.s3.url,
    AWS_ENDPOINT_URL_STS: proxies.sts.url,
    GCE_METADATA_HOST: `127.0.0.1:${PORTS.metadata}`,
    CONNECT_TIMEOUT_SECONDS: '1',
    STALL_TIMEOUT_SECONDS: '2',
    PART_SIZE_MIB: '5',
    PART_QUEUE_SIZE: '2',
    ...overrides,
  });
  return worker;
}

/** An object in GCS: 6 MiB makes a multipart upload of two 5 MiB parts. */
async function sourceObject(label: string, size: number) {
  const name = `${uniquePrefix(label)}object.bin`;
  const bytes = randomBytes(size);
  const headers = { contentType: 'application/x-fault-test', metadata: { fault: label } };
  const generation = await uploadToGcs(gcs, stackEnv().GCS_BUCKET!, name, bytes, headers);
  return { name, bytes, generation, contentType: headers.contentType, metadata: headers.metadata };
}

const failed = (name: string) => (l: LogLine) => String(l.object).endsWith(name) && l.outcome === 'failed';
const copied = (name: string) => (l: LogLine) => String(l.object).endsWith(name) && l.outcome === 'copied';

describe('Toxiproxy faults between the worker and GCS, S3, STS and the metadata server', () => {
  it('latency and jitter on every leg: copied, correct', async () => {
    for (const p of Object.values(proxies)) await p.addToxic({ type: 'latency', stream: 'downstream', latency: 40, jitter: 20 });
    const o = await sourceObject('latency', 6 * MiB);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    await w.waitFor(copied(o.name));
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('a bandwidth cap on S3 that makes each part take longer than the stall timeout: moving bytes are never cut', async () => {
    // 2 MiB/s per connection: the 16 MiB part takes 8 s, well over the 3 s stall timeout. (Parts this size
    // because a few MiB sit in the kernel's socket buffers unseen: a 5 MiB part would be mostly buffer.)
    await proxies.s3.addToxic({ type: 'bandwidth', stream: 'upstream', rate: 2048 });
    const o = await sourceObject('bandwidth', 17 * MiB);
    const w = await workerThroughProxies({ STALL_TIMEOUT_SECONDS: '3', PART_SIZE_MIB: '16' });
    const started = Date.now();
    await w.notify(o.name, o.generation);
    await w.waitFor(copied(o.name), 60_000);
    expect(Date.now() - started).toBeGreaterThan(6000);
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('S3 resets every connection (reset_peer): the attempt fails naming S3, the redelivery copies', async () => {
    await proxies.s3.addToxic({ type: 'reset_peer', stream: 'upstream', timeout: 0 });
    const o = await sourceObject('reset', 64 * 1024);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(failure).toMatchObject({ retryable: true });
    expect(String(failure.message)).toMatch(new RegExp(`S3 HeadObject ${proxies.s3.url} s3://\\S+: ECONNRESET`));
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });

  it('the S3 connection cut mid-part (limit_data): the attempt fails, its upload is aborted, the redelivery copies', async () => {
    await proxies.s3.addToxic({ type: 'limit_data', stream: 'upstream', bytes: 2 * MiB });
    const o = await sourceObject('cut-part', 6 * MiB);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(failure).toMatchObject({ retryable: true });
    expect(String(failure.message)).toContain(`S3 UploadPart ${proxies.s3.url}`);
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    // No upload of a failed attempt is left: each was aborted.
    await expectReplicated(s3, o.name, o);
  });

  it('the GCS connection closed mid-body (limit_data): no partial object, the redelivery copies', async () => {
    await proxies.gcs.addToxic({ type: 'limit_data', stream: 'downstream', bytes: 1 * MiB });
    const o = await sourceObject('limit', 6 * MiB);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(failure).toMatchObject({ retryable: true });
    expect(String(failure.message)).toContain(`GCS read ${proxies.gcs.url} gs://`);
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });

  it('S3 accepts connections and never answers (timeout toxic): the attempt ends at the deadline, naming S3, and the redelivery copies', async () => {
    await proxies.s3.addToxic({ type: 'timeout', stream: 'upstream', timeout: 0 });
    const o = await sourceObject('blackhole', 64 * 1024);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(String(failure.message)).toMatch(new RegExp(`S3 HeadObject ${proxies.s3.url} s3://\\S+: no progress for 2 s \\(3 attempts\\)`));
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });

  it('GCS stops sending mid-body (timeout toxic): the read watchdog ends the attempt, the upload is aborted, the redelivery copies', async () => {
    await proxies.gcs.addToxic({ type: 'bandwidth', stream: 'downstream', rate: 512 });
    const o = await sourceObject('gcs-stall', 6 * MiB);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    // 6 MiB at 512 KiB/s take 12 s: 2 s in, the read is mid-body.
    await new Promise((r) => setTimeout(r, 2000));
    await proxies.gcs.addToxic({ type: 'timeout', stream: 'downstream', timeout: 0 });
    const failure = await w.waitFor(failed(o.name));
    expect(String(failure.message)).toMatch(new RegExp(`GCS read ${proxies.gcs.url} gs://\\S+: no bytes for 2 s`));
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });

  it('S3 closes connections slowly (slow_close): copied, correct', async () => {
    await proxies.s3.addToxic({ type: 'slow_close', stream: 'downstream', delay: 1500 });
    const o = await sourceObject('slow-close', 6 * MiB);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    await w.waitFor(copied(o.name));
    expect(w.outcomes(o.name).map((l) => l.outcome)).toEqual(['copied']);
    await expectReplicated(s3, o.name, o);
  });

  it('STS never answers: each exchange ends at its deadline, the copy fails naming STS, and copies once STS is back', async () => {
    await proxies.sts.addToxic({ type: 'timeout', stream: 'upstream', timeout: 0 });
    const o = await sourceObject('sts-stall', 64 * 1024);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(String(failure.message)).toContain(`STS AssumeRoleWithWebIdentity ${proxies.sts.url}: no progress for 2 s`);
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });

  it('the metadata server never answers: the ID token fetch ends at its deadline, naming it, and copies once it is back', async () => {
    await proxies.metadata.addToxic({ type: 'timeout', stream: 'upstream', timeout: 0 });
    const o = await sourceObject('metadata-stall', 64 * 1024);
    const w = await workerThroughProxies();
    await w.notify(o.name, o.generation);
    const failure = await w.waitFor(failed(o.name));
    expect(String(failure.message)).toContain(`metadata server GET ${proxies.metadata.url} identity token`);
    expect(String(failure.message)).toContain('no answer within 2 s');
    await toxiproxy.reset();
    await w.waitFor(copied(o.name));
    await expectReplicated(s3, o.name, o);
  });
});
