import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { crc32c } from '@node-rs/crc32';
import type { WriteCondition } from '../replicate/ports.js';
import { crc32cBase64 } from '../replicate/verify-stream.js';
import type { PartBufferPool } from './part-buffer-pool.js';

/** Objects up to this size are read into a buffer of their own size, not a pooled one. */
const SMALL_OBJECT_BYTES = 1024 * 1024;

/** The headers and metadata of the object, as PutObject/CreateMultipartUpload take them. */
export type ObjectHeaders = Pick<PutObjectCommandInput, 'ContentType' | 'ContentEncoding' | 'ContentDisposition' | 'ContentLanguage' | 'CacheControl' | 'Metadata'>;

export interface StreamUploadOptions {
  client: S3Client;
  pool: PartBufferPool;
  bucket: string;
  key: string;
  /** Exact byte count of `body` (GCS's size); the stream must end there. */
  size: number;
  /** Part size for this object (≥ pool.bufferBytes; larger parts are allocated apart from the pool). */
  partSize: number;
  /** Parts of this object uploading at once (PART_QUEUE_SIZE); the next one fills meanwhile, if the pool has a buffer. */
  queueSize: number;
  headers: ObjectHeaders;
  /** Store a full-object CRC32C (ChecksumType FULL_OBJECT) instead of a checksum of part checksums. */
  fullObjectChecksum: boolean;
  condition: WriteCondition;
  /**
   * Base64 CRC32C the whole body must have (GCS's): sent as the object's
   * checksum, so S3 itself rejects other bytes, and the body is not hashed a
   * second time here. Computed from the body when absent.
   */
  crc32c?: string;
  signal: AbortSignal;
}

/**
 * Streams `body` into S3: one PutObject when it fits one part, else a
 * multipart upload with up to `queueSize` parts uploading while the next one
 * fills. Part buffers come from the process's pool, whose size is what bounds
 * memory. Every part and the whole object carry a CRC32C that S3 checks.
 *
 * The upload completes only after `body` has ended cleanly (for the core's
 * VerifyingStream, that is after its checks passed), and the last part is only
 * sent then. On any failure, `body` errors or `signal` aborts included, the
 * parts in flight are cancelled, the multipart upload is aborted (and awaited),
 * and the failure is rethrown, so nothing is left behind in S3.
 *
 * Written here rather than with lib-storage's Upload: see PartBufferPool for the
 * memory and CPU reasons; it also lets the stream's own CRC32C go to S3 as the
 * full-object checksum S3 verifies on completion.
 */
export async function uploadStream(body: Readable, o: StreamUploadOptions): Promise<void> {
  if (o.size <= o.partSize) return await putSingle(body, o);
  return await putMultipart(body, o);
}

/** Whole body into one buffer, then one PutObject. */
async function putSingle(body: Readable, o: StreamUploadOptions): Promise<void> {
  const pooled = o.size > SMALL_OBJECT_BYTES && o.size <= o.pool.bufferBytes;
  const buffer = pooled ? await o.pool.acquire(o.signal) : Buffer.allocUnsafe(o.size);
  try {
    let filled = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      checkLength(o, filled + chunk.length, false);
      chunk.copy(buffer, filled);
      filled += chunk.length;
    }
    checkLength(o, filled, true);
    const data = buffer.subarray(0, filled);
    await o.client.send(
      new PutObjectCommand({
        Bucket: o.bucket,
        Key: o.key,
        Body: data,
        ContentLength: filled,
        ...o.headers,
        ChecksumCRC32C: o.crc32c ?? crc32cBase64(crc32c(data)),
        ...conditionParams(o.condition),
      }),
      { abortSignal: o.signal },
    );
  } finally {
    if (pooled) o.pool.release(buffer);
  }
}

async function putMultipart(body: Readable, o: StreamUploadOptions): Promise<void> {
  const { client, bucket, key } = o;
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ...o.headers,
      ChecksumAlgorithm: 'CRC32C',
      ...(o.fullObjectChecksum ? { ChecksumType: 'FULL_OBJECT' as const } : {}),
    }),
    { abortSignal: o.signal },
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error(`CreateMultipartUpload s3://${bucket}/${key} returned no UploadId`);

  // Cancels the parts in flight when anything fails (or the caller aborts).
  const cancel = new AbortController();
  const onAbort = (): void => cancel.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    cancel.abort(error);
    // Stop reading at once (a slow source would otherwise hold the loop until its next chunk).
    if (!body.destroyed) body.destroy();
  };

  const sendPart = (buffer: Buffer, length: number, partNumber: number, release: () => void): void => {
    const data = buffer.subarray(0, length);
    const checksum = crc32cBase64(crc32c(data));
    const done = client
      .send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: data, ContentLength: length, ChecksumCRC32C: checksum }),
        { abortSignal: cancel.signal },
      )
      .then(
        (out) => {
          if (out.ETag === undefined) throw new Error(`UploadPart ${partNumber} of s3://${bucket}/${key} returned no ETag`);
          parts.push({ PartNumber: partNumber, ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C ?? checksum });
        },
      )
      .catch(fail)
      .finally(() => {
        release();
        inFlight.delete(done);
      });
    inFlight.add(done);
  };

  const acquire = async (): Promise<{ buffer: Buffer; release: () => void }> => {
    while (inFlight.size >= o.queueSize && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw failure.error;
    if (o.partSize === o.pool.bufferBytes) {
      const buffer = await o.pool.acquire(cancel.signal);
      return { buffer, release: () => o.pool.release(buffer) };
    }
    // Parts grown past the pool's size (objects over 10,000 pool-sized parts).
    return { buffer: Buffer.allocUnsafeSlow(o.partSize), release: () => undefined };
  };

  try {
    let current: { buffer: Buffer; release: () => void } | undefined;
    let filled = 0;
    let partNumber = 0;
    let total = 0;
    let crc = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (failure !== undefined) throw failure.error;
        total += chunk.length;
        checkLength(o, total, false);
        if (o.crc32c === undefined) crc = crc32c(chunk, crc);
        for (let offset = 0; offset < chunk.length; ) {
          current ??= await acquire();
          const n = Math.min(chunk.length - offset, o.partSize - filled);
          chunk.copy(current.buffer, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === o.partSize) {
            sendPart(current.buffer, filled, ++partNumber, current.release);
            current = undefined;
            filled = 0;
          }
        }
      }
      checkLength(o, total, true);
      // The body ended cleanly: its last bytes may go now.
      if (current !== undefined) {
        sendPart(current.buffer, filled, ++partNumber, current.release);
        current = undefined;
      }
    } finally {
      current?.release();
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        // With FULL_OBJECT, S3 checks the parts add up to exactly the bytes streamed.
        ...(o.fullObjectChecksum ? { ChecksumCRC32C: o.crc32c ?? crc32cBase64(crc), ChecksumType: 'FULL_OBJECT' as const } : {}),
        ...conditionParams(o.condition),
      }),
      { abortSignal: o.signal },
    );
  } catch (err) {
    fail(err);
    // Let the cancelled parts settle, so the abort below is the last word on this upload.
    await Promise.allSettled(inFlight);
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (abortError) {
      // Parts may be left behind (the bucket's lifecycle rule removes them): say so on the error.
      const first = failure!.error;
      if (first instanceof Error && first.cause === undefined) first.cause = abortError;
    }
    throw failure!.error;
  } finally {
    o.signal.removeEventListener('abort', onAbort);
  }
}

/** The body may not run past `size`, and must end exactly at it. */
function checkLength(o: StreamUploadOptions, seen: number, ended: boolean): void {
  if (seen > o.size) throw new Error(`s3://${o.bucket}/${o.key}: body is longer than the ${o.size} bytes announced`);
  if (ended && seen !== o.size) throw new Error(`s3://${o.bucket}/${o.key}: body ended after ${seen} of ${o.size} bytes`);
}

function conditionParams(condition: WriteCondition): { IfMatch: string } | { IfNoneMatch: string } {
  return 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: condition.ifNoneMatch };
}
