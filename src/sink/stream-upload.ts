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
import type { PartBufferPool, PartSupply } from './part-buffer-pool.js';
import { PartChunker, type Part } from './part-chunker.js';

/**
 * How long AbortMultipartUpload may take once an upload has failed. It runs
 * after the caller's signal may have fired (shutdown), and Cloud Run allows
 * 10 s between SIGTERM and SIGKILL; an upload left behind after that is
 * removed by the bucket's lifecycle rule for incomplete multipart uploads.
 */
const ABORT_DEADLINE_MS = 10_000;

/** The headers and metadata of the object, as PutObject/CreateMultipartUpload take them. */
export type ObjectHeaders = Pick<PutObjectCommandInput, 'ContentType' | 'ContentEncoding' | 'ContentDisposition' | 'ContentLanguage' | 'CacheControl' | 'Metadata'>;

export interface StreamUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** The object's bytes, read once. Destroyed if the upload fails before the body ends. */
  body: Readable;
  /** Exact byte count of `body` (GCS's size); the body must end there. */
  size: number;
  /**
   * Where part buffers come from; it also decides the part size (its buffer
   * size, grown for objects over 10,000 parts). Its size bounds the memory of
   * every upload of the process together.
   */
  pool: PartBufferPool;
  /** Parts of this object uploading at once (PART_QUEUE_SIZE; default 4): at most this many part buffers per object. */
  queueSize: number;
  headers: ObjectHeaders;
  /** Replace exactly the object looked at, or create only if absent; a lost race fails with HTTP 412. */
  condition: WriteCondition;
  /**
   * Base64 CRC32C the whole body must have (GCS's): sent as the object's
   * full-object checksum, so S3 itself rejects other bytes, and the body is not
   * hashed a second time here. Computed from the body when absent.
   */
  crc32c?: string;
}

/**
 * Streams one object into S3: one PutObject when it fits one part, else a
 * multipart upload with up to `queueSize` parts uploading at once, each read
 * into a pooled buffer only when an uploader is free to send it. Every part and
 * the whole object carry a CRC32C that S3 checks; S3 stores the object's
 * full-object CRC32C (ChecksumType FULL_OBJECT), equal to GCS's.
 *
 * The upload completes only after the body has ended cleanly (for the core's
 * VerifyingStream, after its checks passed), and the last part is only sent
 * then. On any failure, the body erroring or `signal` aborting included, the
 * parts in flight are cancelled and awaited, the multipart upload is aborted
 * (and awaited), and the first failure is thrown, so nothing is left in S3.
 *
 * Written here rather than with lib-storage's Upload (whose shape it follows):
 * see PartBufferPool for the memory and CPU reasons; it also sends GCS's
 * CRC32C as the full-object checksum S3 verifies on completion.
 *
 * One use per instance: `done` starts the upload and settles when it has.
 */
export class StreamUpload {
  readonly #options: StreamUploadOptions;
  readonly #parts: PartSupply;
  readonly #chunker: PartChunker;
  /** Cancels the parts in flight when anything fails (or the caller aborts). */
  readonly #cancel = new AbortController();
  readonly #completed: CompletedPart[] = [];
  #uploadId: string | undefined;
  #failure: { error: unknown } | undefined;
  #started = false;

  constructor(options: StreamUploadOptions) {
    if (!Number.isInteger(options.queueSize) || options.queueSize <= 0) throw new RangeError(`queueSize must be a positive integer, got ${options.queueSize}`);
    this.#options = options;
    this.#parts = options.pool.partsFor(options.size);
    this.#chunker = new PartChunker(options.body, {
      parts: this.#parts,
      size: options.size,
      label: this.#label,
      hashWhole: options.crc32c === undefined && !this.#single,
      signal: this.#cancel.signal,
    });
  }

  /** Bytes in every part but the last; the whole object when it is sent in one PutObject. */
  get partBytes(): number {
    return this.#parts.partBytes;
  }

  /** Uploads the body; resolves once S3 holds the object. */
  async done(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error(`${this.#label}: StreamUpload.done called twice`);
    this.#started = true;
    const onAbort = (): void => this.#fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      if (this.#single) await this.#putSingle(signal);
      else await this.#putMultipart(signal);
    } catch (err) {
      // The first failure wins: an abort, say, also makes the body's read fail, and that is not the news.
      this.#fail(err);
      throw this.#failure!.error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.#chunker.close();
    }
  }

  get #single(): boolean {
    return this.#options.size <= this.#parts.partBytes;
  }

  get #label(): string {
    return `s3://${this.#options.bucket}/${this.#options.key}`;
  }

  /** The whole body, read into one buffer once it has ended, in one PutObject. */
  async #putSingle(signal: AbortSignal): Promise<void> {
    const { client, bucket, key, headers, condition } = this.#options;
    const part = await this.#chunker.next();
    if (part === undefined) throw new Error(`${this.#label}: body yielded no part`);
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: part.data,
          ContentLength: part.data.length,
          ...headers,
          ChecksumCRC32C: this.#options.crc32c ?? crc32cBase64(crc32c(part.data)),
          ...conditionParams(condition),
        }),
        { abortSignal: signal },
      );
    } finally {
      part.release();
    }
  }

  async #putMultipart(signal: AbortSignal): Promise<void> {
    await this.#start(signal);
    try {
      await this.#uploadParts();
      await this.#complete(signal);
    } catch (err) {
      this.#fail(err);
      await this.#abort();
      throw err;
    }
  }

  /** CreateMultipartUpload, asking for a full-object CRC32C (AWS and MinIO need it on create and on complete). */
  async #start(signal: AbortSignal): Promise<void> {
    const { client, bucket, key, headers } = this.#options;
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...headers, ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }),
      { abortSignal: signal },
    );
    if (created.UploadId === undefined) throw new Error(`CreateMultipartUpload ${this.#label} returned no UploadId`);
    this.#uploadId = created.UploadId;
  }

  /**
   * `queueSize` uploaders, each reading the next part and sending it, until
   * the body is done. Every uploader settles before this returns, so after a
   * failure no part is still in flight; then the first failure is thrown.
   */
  async #uploadParts(): Promise<void> {
    const uploaders = Array.from({ length: this.#options.queueSize }, () => this.#runUploader());
    await Promise.all(uploaders);
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Never rejects: a failure is recorded and stops every uploader. */
  async #runUploader(): Promise<void> {
    while (this.#failure === undefined) {
      let part: Part | undefined;
      try {
        part = await this.#chunker.next();
        if (part === undefined || this.#failure !== undefined) return;
        this.#completed.push(await this.#uploadPart(part));
      } catch (err) {
        this.#fail(err);
      } finally {
        part?.release();
      }
    }
  }

  /** UploadPart with the part's CRC32C, which S3 checks against the bytes. */
  async #uploadPart(part: Part): Promise<CompletedPart> {
    const { client, bucket, key } = this.#options;
    const checksum = crc32cBase64(crc32c(part.data));
    const out = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.#uploadId,
        PartNumber: part.number,
        Body: part.data,
        ContentLength: part.data.length,
        ChecksumCRC32C: checksum,
      }),
      { abortSignal: this.#cancel.signal },
    );
    if (out.ETag === undefined) throw new Error(`UploadPart ${part.number} of ${this.#label} returned no ETag`);
    return { PartNumber: part.number, ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C ?? checksum };
  }

  /** CompleteMultipartUpload: parts in order, and the full-object CRC32C S3 checks the parts add up to. */
  async #complete(signal: AbortSignal): Promise<void> {
    const { client, bucket, key, condition } = this.#options;
    const parts = [...this.#completed].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.#uploadId,
        MultipartUpload: { Parts: parts },
        ChecksumCRC32C: this.#options.crc32c ?? this.#chunker.crc32c,
        ChecksumType: 'FULL_OBJECT',
        ...conditionParams(condition),
      }),
      { abortSignal: signal },
    );
  }

  /**
   * AbortMultipartUpload, after every part has settled, so that it is the last
   * word on the upload and no part lands after it (to avoid stranding uploaded
   * parts). If it fails, the parts stay until the bucket's lifecycle rule
   * removes them: recorded as the cause of the error thrown.
   */
  async #abort(): Promise<void> {
    const { client, bucket, key } = this.#options;
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: this.#uploadId }), {
        abortSignal: AbortSignal.timeout(ABORT_DEADLINE_MS),
      });
    } catch (abortError) {
      recordCause(this.#failure!.error, abortError);
    }
  }

  /** Records the first failure and stops everything else: parts in flight, waits for buffers, reading the body. */
  #fail(error: unknown): void {
    this.#failure ??= { error };
    this.#cancel.abort(this.#failure.error);
    void this.#chunker.close();
  }
}

function conditionParams(condition: WriteCondition): { IfMatch: string } | { IfNoneMatch: string } {
  return 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: condition.ifNoneMatch };
}

/** Puts `extra` on `error` as its cause, or next to a cause it already has. */
function recordCause(error: unknown, extra: unknown): void {
  if (!(error instanceof Error)) return;
  error.cause = error.cause === undefined ? extra : new AggregateError([error.cause, extra], 'the original cause, then the AbortMultipartUpload failure');
}
