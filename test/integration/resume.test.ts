import { createHash, randomBytes } from 'node:crypto';
import { ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { serverOptionsFromRuntime } from '../../src/main/serve-command.js';
import { startServer } from '../../src/server/server.js';
import { startCli, stopAll } from '../support/processes.js';
import { startS3RequestProxy, type S3RequestProxy } from '../support/s3-request-proxy.js';
import { adminS3, gcsClient, listMultipartUploads, readS3, stackConfig, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/**
 * Resumable copies across processes: `gcs2s3 copy` of a 200 MiB object in
 * 5 MiB parts (40 parts) is SIGKILLed after about half its parts; the next
 * `gcs2s3 copy` sends only the parts S3 lacks. UploadPart requests are counted
 * by an HTTP proxy in front of MinIO, which also slows each part's answer so
 * the kill lands mid-copy.
 */

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const PARTS = 40;
let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let proxy: S3RequestProxy;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  proxy = await startS3RequestProxy(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL!);
});

afterAll(async () => {
  await stopAll();
  await proxy?.close();
  s3?.destroy();
});

function childEnv(keyPrefix: string): Record<string, string | undefined> {
  return {
    ...process.env,
    ...stackEnv(),
    S3_KEY_PREFIX: keyPrefix,
    PART_SIZE_MIB: '5',
    PART_QUEUE_SIZE: '2',
    // Only S3 goes through the proxy; STS stays direct.
    AWS_ENDPOINT_URL_S3: proxy.url,
    AWS_ENDPOINT_URL_STS: env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL,
  };
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');

describe('a large copy resumes across processes', () => {
  it('SIGKILLed at about half its parts, the next copy uploads only the missing parts, and S3 holds the same bytes', async () => {
    const bytes = randomBytes(PARTS * PART);
    const name = `${uniquePrefix('resume-src')}big.bin`;
    const file = gcs.bucket(env.GCS_BUCKET!).file(name);
    await file.save(bytes, { resumable: false, validation: false });
    const [meta] = await file.getMetadata();
    const keyPrefix = uniquePrefix('resume');
    const url = `gs://${env.GCS_BUCKET}/${name}#${meta.generation}`;

    proxy.delayMs = 150;
    const first = startCli(['copy', url], childEnv(keyPrefix));
    try {
      await waitUntil(() => proxy.storedParts().length >= PARTS / 2, 60_000);
    } finally {
      first.child.kill('SIGKILL');
    }
    expect(await first.exited).toBeNull();
    // Parts S3 had fully received may still be committing; then S3's own list is the truth.
    await new Promise((r) => setTimeout(r, 500));
    const storedBefore = new Set(await partsInS3(keyPrefix + name));
    for (const n of proxy.storedParts()) expect(storedBefore.has(n)).toBe(true);
    expect(storedBefore.size).toBeGreaterThanOrEqual(PARTS / 2);
    expect(storedBefore.size).toBeLessThan(PARTS);

    proxy.delayMs = 0;
    const sentBefore = proxy.requests.length;
    const second = startCli(['copy', url], childEnv(keyPrefix));
    const secondExit = await second.exited;
    if (secondExit !== 0) console.error(second.lines.map((l) => JSON.stringify(l)).join("\n"));
    expect(secondExit).toBe(0);
    const resent = proxy.requests.slice(sentBefore).filter((r) => r.partNumber !== undefined && r.partNumber < 10_000);
    const resentNumbers = resent.map((r) => r.partNumber!).sort((a, b) => a - b);
    const missing = Array.from({ length: PARTS }, (_, i) => i + 1).filter((n) => !storedBefore.has(n));
    // Exactly the parts S3 lacked, each once: none of the stored ones again.
    expect(resentNumbers).toEqual(missing);
    // One upload: the second process found and continued the first one's (no new CreateMultipartUpload).
    expect(proxy.requests.slice(sentBefore).filter((r) => r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url))).toEqual([]);

    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, keyPrefix + name);
    expect(got.length).toBe(bytes.length);
    expect(md5(got)).toBe(md5(bytes));
    expect(out.ChecksumCRC32C).toBe(meta.crc32c);
    expect(out.ChecksumType).toBe('FULL_OBJECT');
    expect(out.Metadata?.['gcs-generation']).toBe(String(meta.generation));
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, keyPrefix + name)).toEqual([]);
  }, 120_000);
});

/** Data part numbers of the one multipart upload at `key`, as S3 lists them. */
async function partsInS3(key: string): Promise<number[]> {
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: env.S3_BUCKET!, Prefix: key }));
  const ours = (uploads.Uploads ?? []).filter((u) => u.Key === key);
  expect(ours).toHaveLength(1);
  const parts = await s3.send(new ListPartsCommand({ Bucket: env.S3_BUCKET!, Key: key, UploadId: ours[0]!.UploadId! }));
  return (parts.Parts ?? []).map((p) => p.PartNumber!).filter((n) => n < 10_000);
}

describe('push mode: a request deadline far shorter than the copy', () => {
  it('repeated deliveries of the same event each continue the upload, until one finishes the object', async () => {
    const parts = 20;
    const bytes = randomBytes(parts * PART);
    const name = `${uniquePrefix('resume-push-src')}big.bin`;
    const file = gcs.bucket(env.GCS_BUCKET!).file(name);
    await file.save(bytes, { resumable: false, validation: false });
    const [resource] = await file.getMetadata();
    const keyPrefix = uniquePrefix('resume-push');
    const config = stackConfig(
      { S3_KEY_PREFIX: keyPrefix, PART_SIZE_MIB: '5', PART_QUEUE_SIZE: '2', PUSH_AUTH: 'disabled', PUSH_REQUEST_TIMEOUT_SECONDS: '1', AWS_ENDPOINT_URL_S3: proxy.url },
      'serve',
    );
    const runtime = buildRuntime(config, silentLogger);
    const server = await startServer({ ...serverOptionsFromRuntime(runtime, { port: 0, host: '127.0.0.1' }), requestTimeoutMs: config.push.requestTimeoutSeconds * 1000 });
    // Slow enough that one 1 s request can never copy 100 MiB.
    proxy.delayMs = 400;
    const sentBefore = proxy.requests.length;
    const statuses: number[] = [];
    try {
      const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: env.GCS_BUCKET, objectId: name, objectGeneration: String(resource.generation) };
      const message = { data: Buffer.from(JSON.stringify(resource)).toString('base64'), attributes, messageId: randomBytes(6).toString('hex'), publishTime: new Date().toISOString() };
      const body = JSON.stringify({ message, subscription: 'projects/gcs2s3-local/subscriptions/push' });
      // Pub/Sub redelivers the same message after each 503.
      while (statuses.at(-1) !== 204 && statuses.length < 40) {
        const res = await fetch(`${server.url}/pubsub/push`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
    } finally {
      proxy.delayMs = 0;
      await server.close();
      runtime.close();
    }
    expect(statuses.at(-1)).toBe(204);
    expect(statuses.length).toBeGreaterThan(2);
    expect(statuses.slice(0, -1).every((s) => s === 503)).toBe(true);
    const requests = proxy.requests.slice(sentBefore);
    // One multipart upload carried every delivery (two if the first was stopped before its
    // fingerprint part landed), and the parts were sent about once each: nothing restarted
    // from zero. (A part still arriving at S3 when the deadline hit may be stored twice.)
    expect(requests.filter((r) => r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url)).length).toBeLessThanOrEqual(2);
    const stored = requests.filter((r) => r.partNumber !== undefined && r.partNumber < 10_000 && r.status === 200);
    expect(stored.length).toBeLessThan(parts * 1.5);

    const { bytes: got, out } = await readS3(s3, env.S3_BUCKET!, keyPrefix + name);
    expect(md5(got)).toBe(md5(bytes));
    expect(out.ChecksumCRC32C).toBe(resource.crc32c);
  }, 120_000);
});

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
