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
import { IntegrityError, PreconditionFailedError, ReplicationError } from '../errors.js';
import type { OpenBody, WriteCondition } from '../replicate/ports.js';
import { crc32cBase64 } from '../replicate/verify-stream.js';
import type { PartBufferPool, PartSupply } from './part-buffer-pool.js';
import { PartChunker, type Part } from './part-chunker.js';
import { findUploadToResume, MARKER_PART, uploadFingerprint, type ListedPart } from './resumable-upload.js';
import { classifyS3Error } from './s3-errors.js';

/**
 * How long AbortMultipartUpload may take once an upload has failed. It runs
 * after the caller's signal may have fired (shutdown), and Cloud Run allows
 * 10 s between SIGTERM and SIGKILL; an upload left behind after that is
 * removed by the bucket's lifecycle rule for incomplete multipart uploads.
 */
const ABORT_DEADLINE_MS = 10_000;

/**
 * S3 error codes after which an upload's parts are not worth keeping: the
 * parts or the upload itself are wrong (or gone), so a later attempt must
 * start afresh rather than resume them.
 */
const UNRESUMABLE_CODES = new Set(['BadDigest', 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'NoSuchUpload', 'InvalidRequest', 'InvalidArgument']);

/** The headers and metadata of the object, as PutObject/CreateMultipartUpload take them. */
/** The headers, metadata, storage class and encryption of the object, as PutObject/CreateMultipartUpload/CopyObject take them. */
export type ObjectHeaders = Pick<
  PutObjectCommandInput,
  'ContentType' | 'ContentEncoding' | 'ContentDisposition' | 'ContentLanguage' | 'CacheControl' | 'Metadata' | 'StorageClass' | 'ServerSideEncryption' | 'SSEKMSKeyId' | 'BucketKeyEnabled'
>;

export interface StreamUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /**
   * Opens the object's bytes from a byte offset to the end: 0, or the first
   * missing part's offset when an upload is resumed. Called at most once; what
   * it returns is destroyed if the upload fails before the body ends.
   */
  openBody: OpenBody;
  /** Exact byte count of `body` (GCS's size); the body must end there. */
  size: number;
  /**
   * Where part buffers come from; it also decides the part size (its buffer
   * size, grown for objects over 9,999 parts). Its size bounds the memory of
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
  /**
   * Keep the parts of a multipart upload that fails transiently, or whose
   * `signal` aborts (a request deadline, a shutdown), so that the next attempt
   * resumes it; a permanent or integrity failure still aborts it. Uploads are
   * resumed whenever one matching the object is found (with `crc32c` given).
   */
  resumable?: boolean;
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
 * (and awaited), and the first failure is thrown, so nothing is left in S3;
 * except that a `resumable` upload keeps its parts after a transient failure
 * or an abort, for the next attempt.
 *
 * Resuming (docs/resumable-copies.md): a multipart upload first looks for an
 * upload at the key whose fingerprint part (generation, headers, part size)
 * matches, and aborts the others. A match is continued: its parts of the right
 * size are kept, and the body is read from the first missing part on. The
 * skipped bytes are never read, so only S3's check of the full-object CRC32C
 * at completion covers them: it is the gate.
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
  #chunker: PartChunker | undefined;
  /** Cancels the parts in flight when anything fails (or the caller aborts). */
  readonly #cancel = new AbortController();
  readonly #completed: CompletedPart[] = [];
  /** Parts a resumed upload already holds at or after the first missing one: read past, not sent again. */
  readonly #kept = new Map<number, CompletedPart>();
  #uploadId: string | undefined;
  /** The upload carries its fingerprint (written, or found on resuming): only then can a later attempt resume it. */
  #identified = false;
  #failure: { error: unknown } | undefined;
  #started = false;
  #resumedParts = 0;
  #staleAborted = 0;

  constructor(options: StreamUploadOptions) {
    if (!Number.isInteger(options.queueSize) || options.queueSize <= 0) throw new RangeError(`queueSize must be a positive integer, got ${options.queueSize}`);
    this.#options = options;
    this.#parts = options.pool.partsFor(options.size);
  }

  /** Bytes in every part but the last; the whole object when it is sent in one PutObject. */
  get partBytes(): number {
    return this.#parts.partBytes;
  }

  /** Parts found already in S3 and not sent again (0 unless an upload was resumed). */
  /** False when the object goes in one PutObject: no upload, nothing looked for at the key. */
  get multipart(): boolean {
    return !this.#single;
  }

  get resumedParts(): number {
    return this.#resumedParts;
  }

  /** Other uploads at the key (another generation, headers or part size) aborted before this one started. */
  get staleUploadsAborted(): number {
    return this.#staleAborted;
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
      await this.#chunker?.close();
    }
  }

  get #single(): boolean {
    return this.#options.size <= this.#parts.partBytes;
  }

  get #label(): string {
    return `s3://${this.#options.bucket}/${this.#options.key}`;
  }

  /** Part count of the object, and the byte count of part `number`. */
  get #partCount(): number {
    return Math.ceil(this.#options.size / this.#parts.partBytes);
  }

  #partSize(number: number): number {
    return number < this.#partCount ? this.#parts.partBytes : this.#options.size - (this.#partCount - 1) * this.#parts.partBytes;
  }

  /** Reads the body from part `firstPart` on (never more than once). */
  #openChunker(firstPart: number): PartChunker {
    const start = (firstPart - 1) * this.#parts.partBytes;
    this.#chunker = new PartChunker(this.#options.openBody(start), {
      parts: this.#parts,
      size: this.#options.size - start,
      label: this.#label,
      hashWhole: this.#options.crc32c === undefined && !this.#single,
      signal: this.#cancel.signal,
      firstPart,
    });
    // A failure recorded before the body was opened must still stop it.
    if (this.#failure !== undefined) void this.#chunker.close();
    return this.#chunker;
  }

  /** The whole body, read into one buffer once it has ended, in one PutObject. */
  async #putSingle(signal: AbortSignal): Promise<void> {
    const { client, bucket, key, headers, condition } = this.#options;
    const part = await this.#openChunker(1).next();
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
    const fingerprint = this.#fingerprint();
    const firstMissing = fingerprint === undefined ? 1 : await this.#resume(fingerprint, signal);
    try {
      if (this.#uploadId === undefined) await this.#start(fingerprint, signal);
      if (firstMissing <= this.#partCount) {
        this.#openChunker(firstMissing);
        await this.#uploadParts();
      }
      await this.#complete(signal);
    } catch (err) {
      this.#fail(err);
      if (this.#keepsParts(signal)) throw err;
      await this.#abort();
      throw err;
    }
  }

  /** The upload's identity as its marker part's bytes; none without GCS's CRC32C (the completion gate). */
  #fingerprint(): Buffer | undefined {
    const { key, size, crc32c: crc, headers } = this.#options;
    if (crc === undefined) return undefined;
    return uploadFingerprint({ key, size, crc32c: crc, partBytes: this.#parts.partBytes, headers });
  }

  /**
   * Continues the upload at the key that matches `fingerprint`, if there is
   * one (others are aborted): keeps its parts of the right size with a
   * checksum, and returns the first part number still to send (1: none kept).
   */
  async #resume(fingerprint: Buffer, signal: AbortSignal): Promise<number> {
    const { client, bucket, key } = this.#options;
    const { resumable: found, aborted } = await findUploadToResume({ client, bucket, key, fingerprint, signal });
    this.#staleAborted += aborted;
    if (found === undefined) return 1;
    this.#uploadId = found.uploadId;
    this.#identified = true;
    const usable = (p: ListedPart | undefined): p is ListedPart & { crc32c: string } => p !== undefined && p.crc32c !== undefined && p.size === this.#partSize(p.number);
    let firstMissing = 1;
    while (firstMissing <= this.#partCount && usable(found.parts.get(firstMissing))) firstMissing++;
    for (const part of found.parts.values()) {
      if (part.number > this.#partCount || !usable(part)) continue;
      const completed: CompletedPart = { PartNumber: part.number, ETag: part.etag, ChecksumCRC32C: part.crc32c };
      if (part.number < firstMissing) this.#completed.push(completed);
      else this.#kept.set(part.number, completed);
      this.#resumedParts++;
    }
    return firstMissing;
  }

  /** CreateMultipartUpload, asking for a full-object CRC32C (AWS and MinIO need it on create and on complete), then the fingerprint part. */
  async #start(fingerprint: Buffer | undefined, signal: AbortSignal): Promise<void> {
    const { client, bucket, key, headers } = this.#options;
    const created = await client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...headers, ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }),
      { abortSignal: signal },
    );
    if (created.UploadId === undefined) throw new Error(`CreateMultipartUpload ${this.#label} returned no UploadId`);
    this.#uploadId = created.UploadId;
    if (fingerprint === undefined) return;
    await this.#send(MARKER_PART, fingerprint);
    this.#identified = true;
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
        part = await this.#chunker!.next();
        if (part === undefined || this.#failure !== undefined) return;
        this.#completed.push(this.#kept.get(part.number) ?? (await this.#send(part.number, part.data)));
      } catch (err) {
        this.#fail(err);
      } finally {
        part?.release();
      }
    }
  }

  /** UploadPart with the part's CRC32C, which S3 checks against the bytes. */
  async #send(number: number, data: Buffer): Promise<CompletedPart> {
    const { client, bucket, key } = this.#options;
    const checksum = crc32cBase64(crc32c(data));
    const out = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.#uploadId,
        PartNumber: number,
        Body: data,
        ContentLength: data.length,
        ChecksumCRC32C: checksum,
      }),
      { abortSignal: this.#cancel.signal },
    );
    if (out.ETag === undefined) throw new Error(`UploadPart ${number} of ${this.#label} returned no ETag`);
    return { PartNumber: number, ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C ?? checksum };
  }

  /**
   * CompleteMultipartUpload: the data parts in order (never the fingerprint
   * part, which S3 then drops), and the full-object CRC32C S3 checks the parts
   * add up to: for a resumed upload, the only check of the parts not read here.
   */
  async #complete(signal: AbortSignal): Promise<void> {
    const { client, bucket, key, condition } = this.#options;
    const parts = [...this.#completed].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: this.#uploadId,
        MultipartUpload: { Parts: parts },
        ChecksumCRC32C: this.#options.crc32c ?? this.#chunker!.crc32c,
        ChecksumType: 'FULL_OBJECT',
        ...conditionParams(condition),
      }),
      { abortSignal: signal },
    );
  }

  /**
   * Whether a failed upload keeps its parts for the next attempt: only a
   * resumable one that carries its fingerprint, after the caller's deadline or shutdown, or a failure that
   * says nothing against the parts (network, throttling, 5xx, credentials).
   * Bytes that did not check out, a lost condition (another writer decided the
   * key), or a permanent error abort it.
   */
  #keepsParts(signal: AbortSignal): boolean {
    // Without its fingerprint part no attempt would ever resume it: keeping it would only strand it.
    if (this.#options.resumable !== true || !this.#identified) return false;
    if (signal.aborted) return true;
    const error = this.#failure!.error;
    if (error instanceof IntegrityError || error instanceof PreconditionFailedError) return false;
    if (error instanceof ReplicationError) return error.retryable;
    const name = (error as { name?: unknown } | undefined)?.name;
    if (typeof name === 'string' && UNRESUMABLE_CODES.has(name)) return false;
    const classified = classifyS3Error(error, this.#label);
    return classified.retryable && !(classified instanceof PreconditionFailedError);
  }

  /**
   * AbortMultipartUpload, after every part has settled, so that it is the last
   * word on the upload and no part lands after it (to avoid stranding uploaded
   * parts). If it fails, the parts stay until the bucket's lifecycle rule
   * removes them: recorded as the cause of the error thrown.
   */
  async #abort(): Promise<void> {
    if (this.#uploadId === undefined) return;
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
    void this.#chunker?.close();
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
