import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { Storage } from '@google-cloud/storage';
import pLimit from 'p-limit';
import { parseConfig, type Config } from '../../src/config/config.js';
import { readEnvFile } from '../../src/main/env-file.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const STACK_ENV_FILE = resolve(ROOT, '.local-stack/env');

/** The variables the local stack wrote (`scripts/local-stack.sh up`). */
export function stackEnv(): Record<string, string> {
  return readEnvFile(STACK_ENV_FILE);
}

/**
 * Puts the stack's variables into process.env for the libraries that read
 * their own (STORAGE_EMULATOR_HOST, GCE_METADATA_HOST, PUBSUB_EMULATOR_HOST).
 * Each vitest fork has its own process.env.
 */
export function useStackEnv(): Record<string, string> {
  const env = stackEnv();
  // Not STORAGE_EMULATOR_HOST: the storage library mis-builds URLs from it
  // (nodejs-storage#1314); Config passes it as apiEndpoint instead (see src/cli.ts).
  const { STORAGE_EMULATOR_HOST: _gcs, ...rest } = env;
  Object.assign(process.env, rest);
  return env;
}

/** A Config for the stack, with overrides (e.g. a per-test S3_KEY_PREFIX). */
export function stackConfig(overrides: Record<string, string> = {}, command: 'copy' | 'pull' | 'serve' | 'backfill' | 'verify' = 'copy'): Config {
  return parseConfig({ ...stackEnv(), ...overrides }, { command, instanceId: `test-${process.pid}` });
}

/** A unique prefix per test, so tests sharing the stack never see each other's objects. */
export function uniquePrefix(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}/`;
}

/** GCS client on fake-gcs-server. */
export function gcsClient(): Storage {
  const env = stackEnv();
  return new Storage({ apiEndpoint: env.STORAGE_EMULATOR_HOST, projectId: env.GOOGLE_CLOUD_PROJECT });
}

/** S3 client with MinIO's administrator login, for reading results back (never used by the worker). */
export function adminS3(): S3Client {
  const env = stackEnv();
  return new S3Client({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: { accessKeyId: env.MINIO_ROOT_USER!, secretAccessKey: env.MINIO_ROOT_PASSWORD! },
  });
}

export async function readS3(s3: S3Client, bucket: string, key: string) {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  const bytes = Buffer.from(await out.Body!.transformToByteArray());
  return { bytes, out };
}

export async function headS3(s3: S3Client, bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

export async function listS3Keys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

export async function listMultipartUploads(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (out.Uploads ?? []).map((u) => u.Key!);
}

export async function deleteS3Prefix(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const keys = await listS3Keys(s3, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

/** Uploads `bytes` to gs://bucket/name as stored (no gzip, one request); resolves to the new generation. */
export async function uploadToGcs(gcs: Storage, bucket: string, name: string, bytes: Buffer, metadata: Record<string, unknown> = {}): Promise<string> {
  const file = gcs.bucket(bucket).file(name);
  await file.save(bytes, { resumable: false, gzip: false, validation: false, metadata });
  const [meta] = await file.getMetadata();
  return String(meta.generation);
}

/**
 * Seeds GCS with small objects, each holding `bytes of NAME`, by simple media
 * uploads over fetch (about twice the storage library's rate on
 * fake-gcs-server), 32 at a time.
 */
export async function seedNamedObjects(env: Record<string, string>, names: readonly string[]): Promise<void> {
  const limit = pLimit(32);
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const url = `${env.STORAGE_EMULATOR_HOST}/upload/storage/v1/b/${env.GCS_BUCKET}/o?uploadType=media&name=${encodeURIComponent(name)}`;
        const response = await fetch(url, { method: 'POST', body: `bytes of ${name}` });
        if (!response.ok) throw new Error(`upload of ${name} failed: HTTP ${response.status}`);
        await response.arrayBuffer();
      }),
    ),
  );
}

/** One version of an object in a versioned bucket. */
export interface ObjectVersion {
  key: string;
  versionId: string;
  lastModified: number;
}

/** Every version under `prefix` in a versioned bucket (a key written twice has two). */
export async function listObjectVersions(s3: S3Client, bucket: string, prefix = ''): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId!, lastModified: v.LastModified!.getTime() });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Deletes every version in a versioned bucket, then the bucket; best effort (test clean-up). */
export async function deleteVersionedBucket(s3: S3Client, bucket: string): Promise<void> {
  const versions = await listObjectVersions(s3, bucket).catch(() => []);
  for (let i = 0; i < versions.length; i += 1000) {
    const batch = versions.slice(i, i + 1000).map((v) => ({ Key: v.key, VersionId: v.versionId }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch } })).catch(() => {});
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
}
