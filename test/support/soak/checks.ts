import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Bucket } from '@google-cloud/storage';
import { crc32c } from '@node-rs/crc32';
import type { IssuedSecrets } from './legs.js';

/** What `gcs2s3 verify --report` wrote, as far as the soak reads it. */
export interface VerifyReport {
  inSync: boolean;
  complete: boolean;
  listed?: { gcs: number; s3: number };
  counts: { inSync: number; missingInS3: number; staleInS3: number; mismatched: number; extraInS3: number; errors: number };
  missingInS3: unknown[];
  staleInS3: unknown[];
  mismatched: unknown[];
  extraInS3: unknown[];
}

export async function readVerifyReport(file: string): Promise<VerifyReport | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as VerifyReport;
  } catch {
    return undefined;
  }
}

/** An object whose S3 bytes differ from GCS's, found by reading them back (independent of verify's provenance check). */
export interface WrongBytes {
  name: string;
  why: string;
}

/** Reads every S3 copy of the GCS objects under `prefix` and compares its size and CRC32C with GCS's. */
export async function checkBytes(bucket: Bucket, s3: S3Client, s3Bucket: string, prefix: string): Promise<{ checked: number; wrong: WrongBytes[] }> {
  const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
  const wrong: WrongBytes[] = [];
  for (const f of files) {
    const expectedSize = Number(f.metadata.size);
    const expectedCrc = f.metadata.crc32c;
    let crc = 0;
    let size = 0;
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: s3Bucket, Key: f.name }));
      for await (const chunk of out.Body as AsyncIterable<Uint8Array>) {
        const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        crc = crc32c(b, crc);
        size += b.length;
      }
    } catch (err) {
      wrong.push({ name: f.name, why: `S3 read failed: ${(err as Error).name}` });
      continue;
    }
    const actualCrc = Buffer.alloc(4);
    actualCrc.writeUInt32BE(crc >>> 0);
    if (size !== expectedSize) wrong.push({ name: f.name, why: `size ${size} in S3, ${expectedSize} in GCS` });
    else if (expectedCrc !== undefined && actualCrc.toString('base64') !== expectedCrc) wrong.push({ name: f.name, why: `CRC32C ${actualCrc.toString('base64')} in S3, ${expectedCrc} in GCS` });
  }
  return { checked: files.length, wrong };
}

export interface StrandedUpload {
  key: string;
  uploadId: string;
  initiated?: string;
}

/**
 * Multipart uploads in progress under `prefix`. MinIO answers a
 * ListMultipartUploads `Prefix` only when it is a whole key (minio/minio#20989,
 * "working as intended"), so the bucket's whole list is read and filtered here,
 * and each of `keys` (every key the run may have written) is asked for too.
 */
export async function listStranded(s3: S3Client, s3Bucket: string, prefix: string, keys: readonly string[] = []): Promise<StrandedUpload[]> {
  const found = new Map<string, StrandedUpload>();
  for (const p of [undefined, ...keys]) {
    for (const u of await listUploads(s3, s3Bucket, p)) if (u.key.startsWith(prefix)) found.set(u.uploadId, u);
  }
  return [...found.values()].sort((a, b) => a.key.localeCompare(b.key));
}

async function listUploads(s3: S3Client, s3Bucket: string, prefix: string | undefined): Promise<StrandedUpload[]> {
  const found: StrandedUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: s3Bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    for (const u of out.Uploads ?? []) found.push({ key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated?.toISOString() });
    if (!out.IsTruncated) return found;
    keyMarker = out.NextKeyMarker;
    uploadIdMarker = out.NextUploadIdMarker;
  }
}

/** A secret (or signed-URL pattern) seen in a log. Only its kind and place are kept, never the value. */
export interface SecretFinding {
  kind: string;
  file: string;
  line: number;
}

/**
 * Looks for every secret the run handed out, in every line of every log:
 * each ID token (whole, or its signature alone), STS secret key and session
 * token, and the marks of a signed URL.
 */
export async function scanLogs(files: string[], secrets: IssuedSecrets): Promise<{ findings: SecretFinding[]; lines: number }> {
  const needles: Array<[string, string]> = [
    ...[...secrets.idTokens].flatMap((t): Array<[string, string]> => [['ID token', t], ['ID token signature', t.split('.')[2]!]]),
    ...[...secrets.stsSecrets].map((s): [string, string] => ['STS secret access key', s]),
    ...[...secrets.sessionTokens].map((s): [string, string] => ['STS session token', s]),
  ];
  const patterns: Array<[string, RegExp]> = [
    ['signed URL (X-Amz-Signature=)', /X-Amz-Signature=/i],
    ['signed URL (X-Goog-Signature=)', /X-Goog-Signature=/i],
    ['signed URL (X-Amz-Credential=)', /X-Amz-Credential=/i],
    ['SigV4 Authorization header (Signature=)', /Signature=[0-9a-f]{64}/],
  ];
  const findings: SecretFinding[] = [];
  let scanned = 0;
  for (const file of files) {
    if (!existsSync(file)) continue;
    // Line by line: a long run's debug logs can be larger than one string may be.
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      for (const [kind, needle] of needles) if (line.includes(needle)) findings.push({ kind, file, line: n });
      for (const [kind, re] of patterns) if (re.test(line)) findings.push({ kind, file, line: n });
    }
    scanned += n;
  }
  return { findings, lines: scanned };
}
