import {
  AbortMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { crc32c } from '@node-rs/crc32';
import { crc32cBase64 } from '../replicate/verify-stream.js';
import { S3_MAX_PARTS } from './part-size.js';
import { s3StatusOf } from './s3-errors.js';
import { multipartUploads } from './s3-lister.js';

/**
 * The part number that holds an upload's fingerprint, never part of the
 * object: CompleteMultipartUpload lists only the data parts, and S3 drops
 * every part not listed. Data parts therefore stop at 9,999 (part-size.ts).
 */
export const MARKER_PART = S3_MAX_PARTS;

/** One part S3 already holds for an upload, as ListParts reports it. */
export interface ListedPart {
  number: number;
  size: number;
  etag: string;
  /** Base64 CRC32C S3 computed for the part; absent where the endpoint does not report one. */
  crc32c?: string;
}

/** An upload in progress at the key whose fingerprint matches: continue it. */
export interface ResumableUpload {
  uploadId: string;
  /** Data parts S3 holds (the marker part excluded), by number. */
  parts: Map<number, ListedPart>;
}

/** What one upload is for: nothing else may ever complete it. */
export interface UploadIdentity {
  key: string;
  /** Object size in bytes. */
  size: number;
  /** GCS's CRC32C of the whole object (base64): the completion gate. */
  crc32c: string;
  /** Bytes in every part but the last. */
  partBytes: number;
  /** Every header and metadata value the upload was created with (the provenance, gcs-generation included). */
  headers: Record<string, unknown>;
}

/**
 * The bytes of the marker part: the upload's identity as canonical JSON.
 * S3's ListMultipartUploads and ListParts return no metadata, but ListParts
 * returns every part's size and CRC32C, so the marker's size and CRC32C are
 * a fingerprint that can be read back with the parts themselves.
 */
export function uploadFingerprint(identity: UploadIdentity): Buffer {
  return Buffer.from(JSON.stringify(canonical({ format: 'gcs2s3-resume/1', ...identity })), 'utf8');
}

/** Where uploads are looked for and aborted: exactly one key of one bucket. */
export interface UploadsAtKey {
  client: S3Client;
  bucket: string;
  key: string;
  signal: AbortSignal;
}

export interface FindUploadOptions extends UploadsAtKey {
  /** The fingerprint this copy would write (uploadFingerprint). */
  fingerprint: Buffer;
}

/** What findUploadToResume found: the upload to continue, if any, and how many others it aborted. */
export interface FoundUploads {
  resumable?: ResumableUpload;
  /** Uploads at the key aborted because they can never be completed by this copy. */
  aborted: number;
}

/**
 * Looks for an upload at exactly `key` whose marker part matches
 * `fingerprint`, and aborts every other upload at the key: their generation,
 * headers or part size differ, so they can never be completed by this copy,
 * and a newer copy supersedes them (this also clears uploads stranded by
 * killed processes). Of several matching uploads (two instances started the
 * same copy at once), the one with the most parts is kept.
 */
export async function findUploadToResume(options: FindUploadOptions): Promise<FoundUploads> {
  const { fingerprint } = options;
  const markerCrc = crc32cBase64(crc32c(fingerprint));
  let best: ResumableUpload | undefined;
  let aborted = 0;
  const abort = async (uploadId: string): Promise<void> => {
    if (await abortUpload(options, uploadId)) aborted++;
  };
  for (const { uploadId } of await listUploadsAt(options)) {
    const parts = await listParts(options, uploadId);
    if (parts === undefined) continue; // gone since the listing: completed or aborted by another copy
    const marker = parts.get(MARKER_PART);
    parts.delete(MARKER_PART);
    const matches = marker !== undefined && marker.size === fingerprint.length && marker.crc32c === markerCrc;
    if (!matches) {
      await abort(uploadId);
      continue;
    }
    const found = { uploadId, parts };
    if (best === undefined || found.parts.size > best.parts.size) {
      if (best !== undefined) await abort(best.uploadId);
      best = found;
    } else {
      await abort(uploadId);
    }
  }
  return { resumable: best, aborted };
}

/** An upload in progress, as ListMultipartUploads reports it. */
export interface ListedUpload {
  uploadId: string;
  initiated?: Date;
}

/** Uploads at exactly `key` (the prefix listing also returns longer keys), every page. */
export async function listUploadsAt(options: UploadsAtKey): Promise<ListedUpload[]> {
  const { client, bucket, key, signal } = options;
  const ids: ListedUpload[] = [];
  for await (const upload of multipartUploads(client, bucket, { prefix: key }, signal)) {
    if (upload.key === key) {
      if (upload.uploadId !== undefined) ids.push({ uploadId: upload.uploadId, initiated: upload.initiated });
    } else if (upload.key > key) {
      // Keys come in order: once past `key`, the rest are longer keys.
      break;
    }
  }
  return ids;
}

/** Every part of one upload (1,000 a page); undefined when the upload no longer exists. */
async function listParts(options: UploadsAtKey, uploadId: string): Promise<Map<number, ListedPart> | undefined> {
  const { client, bucket, key, signal } = options;
  const parts = new Map<number, ListedPart>();
  let marker: string | undefined;
  try {
    for (;;) {
      const page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), { abortSignal: signal });
      for (const p of page.Parts ?? []) {
        if (p.PartNumber === undefined || p.ETag === undefined) continue;
        parts.set(p.PartNumber, { number: p.PartNumber, size: p.Size ?? -1, etag: p.ETag, crc32c: p.ChecksumCRC32C });
      }
      if (page.IsTruncated !== true) return parts;
      marker = page.NextPartNumberMarker;
    }
  } catch (err) {
    if (s3StatusOf(err) === 404) return undefined;
    throw err;
  }
}

/** Aborts one upload at the key: true when this call aborted it, false when it was already gone. */
export async function abortUpload(options: UploadsAtKey, uploadId: string): Promise<boolean> {
  const { client, bucket, key, signal } = options;
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal: signal });
    return true;
  } catch (err) {
    // Already completed or aborted by another copy: nothing left to clear.
    if (s3StatusOf(err) !== 404) throw err;
    return false;
  }
}

/** Objects with sorted keys and no undefined values, so equal identities serialise to equal bytes. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
}
