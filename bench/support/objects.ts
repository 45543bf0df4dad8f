/**
 * Seeding fake-gcs-server and reading/cleaning MinIO, with the administrator
 * login (the worker never uses it). Loopback only.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { MiB, stackEnv } from './env.js';

const GCS = 'http://127.0.0.1:4443';

/**
 * Uploads `size` random bytes, streamed from /dev/urandom with a known
 * Content-Length: nothing is held in memory (curl's --data-binary @- reads
 * all of stdin first and gives up at 2 GiB).
 */
export async function uploadRandomObject(bucket: string, name: string, size: number): Promise<void> {
  const path = `/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`;
  const signal = AbortSignal.timeout(600_000);
  await new Promise<void>((resolve, reject) => {
    const req = request(`${GCS}${path}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, signal }, (res) => {
      res.resume();
      res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`upload of gs://${bucket}/${name}: HTTP ${res.statusCode}`))));
      res.once('error', reject);
    });
    req.once('error', reject);
    pipeline(createReadStream('/dev/urandom', { start: 0, end: size - 1, highWaterMark: MiB }), req).catch(reject);
  });
}

/** Uploads one small object; resolves with its generation. */
export async function uploadSmallObject(bucket: string, name: string, body: Buffer): Promise<string> {
  const res = await fetch(`${GCS}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    // A copy backed by a plain ArrayBuffer: what fetch's BodyInit accepts in every @types/node.
    body: new Uint8Array(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`upload of gs://${bucket}/${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { generation: string }).generation;
}

/** `count` objects of `size` random bytes named `prefix` + 00000.bin…, `concurrency` uploads at a time. */
export async function seedSmallObjects(bucket: string, prefix: string, count: number, size: number, concurrency = 16): Promise<string[]> {
  const limit = pLimit(concurrency);
  const names = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}.bin`);
  await Promise.all(names.map((name) => limit(() => uploadSmallObject(bucket, name, randomBytes(size)))));
  return names;
}

/** Deletes every GCS object under `prefix` (fake-gcs-server keeps them in memory). */
export async function deleteGcsPrefix(bucket: string, prefix: string): Promise<number> {
  const limit = pLimit(16);
  let deleted = 0;
  for (;;) {
    const res = await fetch(`${GCS}/storage/v1/b/${bucket}/o?prefix=${encodeURIComponent(prefix)}&maxResults=1000&fields=items(name)`, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`list gs://${bucket}/${prefix}: HTTP ${res.status}`);
    const names = (((await res.json()) as { items?: Array<{ name: string }> }).items ?? []).map((i) => i.name);
    if (names.length === 0) return deleted;
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          const del = await fetch(`${GCS}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`, { method: 'DELETE', signal: AbortSignal.timeout(60_000) });
          if (!del.ok && del.status !== 404) throw new Error(`delete gs://${bucket}/${name}: HTTP ${del.status}`);
          deleted++;
        }),
      ),
    );
  }
}

/** S3 client with MinIO's administrator login, for reading results back and cleaning up. */
export function adminS3(): S3Client {
  const env = stackEnv();
  return new S3Client({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: { accessKeyId: env.MINIO_ROOT_USER!, secretAccessKey: env.MINIO_ROOT_PASSWORD! },
  });
}

export async function listS3Keys(s3: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** The `x-amz-meta-gcs-generation` of an S3 object, or undefined when absent. */
export async function s3Generation(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return out.Metadata?.['gcs-generation'];
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** Deletes every S3 object under `prefix` and aborts multipart uploads left there. */
export async function deleteS3Prefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const keys = await listS3Keys(s3, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
  }
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const u of uploads.Uploads ?? []) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
  }
  return keys.length;
}

/** Removes a bench's objects under `prefix` from both buckets; logs failures, never throws. */
export async function removeBenchObjects(gcsBucket: string, s3Bucket: string, prefix: string, log: (line: string) => void): Promise<void> {
  const s3 = adminS3();
  try {
    await deleteGcsPrefix(gcsBucket, prefix).catch((err: unknown) => log(`cleanup of gs://${gcsBucket}/${prefix}: ${String(err)}`));
    await deleteS3Prefix(s3, s3Bucket, prefix).catch((err: unknown) => log(`cleanup of s3://${s3Bucket}/${prefix}: ${String(err)}`));
  } finally {
    s3.destroy();
  }
}
