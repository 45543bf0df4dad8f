import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { PermanentError, PreconditionFailedError } from '../../src/errors.js';
import type { ObjectRef, SinkObject, SourceObject } from '../../src/model.js';
import type { OpenBody, PendingUpload, Sink, Source, WriteCondition, WriteSpec } from '../../src/replicate/ports.js';
import { crc32cBase64 } from '../../src/replicate/verify-stream.js';

/** In-memory Source: generations of objects, with optional byte corruption. */
export class FakeSource implements Source {
  readonly objects = new Map<string, { meta: SourceObject; bytes: Buffer }[]>();
  reads = 0;
  stats = 0;
  /** When set, flips one byte in the middle of every read. */
  corrupt = false;
  /** Objects deleted in a versioned bucket: no live generation. */
  readonly #archived = new Set<string>();

  put(bucket: string, name: string, bytes: Buffer, extra: Partial<SourceObject> = {}): SourceObject {
    const id = `${bucket}/${name}`;
    const versions = this.objects.get(id) ?? [];
    const last = versions.at(-1);
    const generation = extra.generation ?? String(last ? BigInt(last.meta.generation) + 1n : 1700000000000001n);
    const meta: SourceObject = {
      bucket,
      name,
      generation,
      metageneration: '1',
      size: bytes.length,
      crc32c: crc32cBase64(crc32c(bytes)),
      md5Hash: createHash('md5').update(bytes).digest('base64'),
      metadata: {},
      ...extra,
    };
    versions.push({ meta, bytes });
    this.objects.set(id, versions);
    this.#archived.delete(id);
    return meta;
  }

  /**
   * Changes the live generation's headers or custom metadata, as
   * `objects.patch` does. Real GCS bumps the metageneration; fake-gcs-server
   * v1.55.1 does not (`bumpMetageneration: false` reproduces it).
   */
  patch(bucket: string, name: string, changes: Partial<SourceObject>, options: { bumpMetageneration?: boolean } = {}): SourceObject {
    const live = this.objects.get(`${bucket}/${name}`)?.at(-1);
    if (live === undefined) throw new Error(`no object ${bucket}/${name}`);
    const metageneration = options.bumpMetageneration === false ? live.meta.metageneration : String(Number(live.meta.metageneration) + 1);
    live.meta = { ...live.meta, ...changes, metageneration };
    return live.meta;
  }

  /** Deletes every generation but the newest (GCS without versioning keeps only the live one). */
  dropOldGenerations(bucket: string, name: string): void {
    const versions = this.objects.get(`${bucket}/${name}`) ?? [];
    this.objects.set(`${bucket}/${name}`, versions.slice(-1));
  }

  /**
   * Deletes the object in a versioned bucket: its live generation becomes
   * noncurrent (GCS sends OBJECT_ARCHIVE). Every generation stays readable by
   * number; a stat without generation finds nothing until the next put.
   */
  archive(bucket: string, name: string): void {
    this.#archived.add(`${bucket}/${name}`);
  }

  /** Deletes the object and every generation (a bucket without versioning: OBJECT_DELETE). */
  delete(bucket: string, name: string): void {
    this.objects.delete(`${bucket}/${name}`);
  }

  async stat(ref: ObjectRef): Promise<SourceObject | undefined> {
    this.stats++;
    const id = `${ref.bucket}/${ref.name}`;
    const versions = this.objects.get(id) ?? [];
    if (ref.generation === undefined) return this.#archived.has(id) ? undefined : versions.at(-1)?.meta;
    return versions.find((v) => v.meta.generation === ref.generation)?.meta;
  }

  read(object: SourceObject, _signal?: AbortSignal, start = 0): Readable {
    this.reads++;
    const versions = this.objects.get(`${object.bucket}/${object.name}`) ?? [];
    const found = versions.find((v) => v.meta.generation === object.generation);
    if (!found) throw new Error('no such generation');
    const bytes = Buffer.from(found.bytes.subarray(start));
    if (this.corrupt && bytes.length > 0) bytes[bytes.length >> 1]! ^= 0xff;
    // Several chunks, like a network stream.
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 1000) chunks.push(bytes.subarray(i, i + 1000));
    return Readable.from(chunks);
  }
}

export interface StoredObject {
  bytes: Buffer;
  spec: WriteSpec;
  etag: string;
}

/** In-memory Sink with S3's conditional-write semantics; a failed stream stores nothing. */
export class FakeSink implements Sink {
  readonly objects = new Map<string, StoredObject>();
  writes = 0;
  aborted = 0;
  heads = 0;
  #etags = 0;
  /** Runs between reading the body and committing, to simulate a racing writer (or a racing delete). */
  beforeCommit?: (key: string) => void | Promise<void>;
  /** Thrown by every write before the body is read, as a sink refusing what it cannot store. */
  refuseWith?: Error;
  /** Runs at the start of updateMetadata, after the core's HEAD: a racing writer. */
  beforeUpdate?: (key: string) => void | Promise<void>;
  /**
   * ETags as S3 makes them for single-part objects: the MD5 of the bytes, so
   * two generations with the same bytes have the same ETag, and an in-place
   * metadata copy keeps it (measured on MinIO).
   */
  etagFromBytes = false;
  /** Multipart uploads in progress, by key (as killed copies leave them). */
  readonly uploads = new Map<string, PendingUpload[]>();
  /** Writes above this many bytes would be multipart uploads. */
  multipartAbove = 16 * 1024 * 1024;
  /** ListMultipartUploads requests made. */
  uploadListings = 0;
  /** Runs after listing uploads and before aborting them: a racing writer. */
  afterListUploads?: (key: string) => void | Promise<void>;
  /**
   * Keys whose objects sit in an archive class (S3's GLACIER): HEAD reports
   * them archived, and, as on S3 before a restore, their bytes cannot be
   * copied in place (updateMetadata fails with InvalidObjectState).
   */
  readonly archivedKeys = new Set<string>();

  async head(key: string): Promise<SinkObject | undefined> {
    this.heads++;
    const o = this.objects.get(key);
    if (!o) return undefined;
    const { metadata } = o.spec;
    const { contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl } = o.spec;
    return {
      key,
      etag: o.etag,
      size: o.bytes.length,
      generation: metadata['gcs-generation'],
      crc32c: metadata['gcs-crc32c'],
      sourceBucket: metadata['gcs-bucket'],
      metageneration: metadata['gcs-metageneration'],
      ...(this.archivedKeys.has(key) ? { storageClass: 'GLACIER', archived: true } : {}),
      headers: { contentType, contentEncoding, contentDisposition, contentLanguage, cacheControl, metadata: { ...metadata } },
    };
  }

  async write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition): Promise<void> {
    if (this.refuseWith !== undefined) throw this.refuseWith;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body(0)) chunks.push(chunk as Buffer);
    } catch (err) {
      this.aborted++;
      throw err;
    }
    await this.beforeCommit?.(key);
    this.#check(key, condition);
    this.writes++;
    const bytes = Buffer.concat(chunks);
    this.objects.set(key, { bytes, spec, etag: this.#etag(bytes) });
  }

  async updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }): Promise<void> {
    await this.beforeUpdate?.(key);
    this.#check(key, condition);
    if (this.archivedKeys.has(key)) throw new PermanentError(`InvalidObjectState: ${key} is archived; restore it before copying`, { code: 'InvalidObjectState' });
    const o = this.objects.get(key)!;
    this.objects.set(key, { ...o, spec, etag: this.etagFromBytes ? o.etag : `"etag-${++this.#etags}"` });
  }

  async remove(key: string, condition: { ifMatch: string }): Promise<void> {
    this.#check(key, condition);
    this.objects.delete(key);
  }

  isMultipart(size: number): boolean {
    return size > this.multipartAbove;
  }

  async listUploads(key: string): Promise<PendingUpload[]> {
    this.uploadListings++;
    const listed = [...(this.uploads.get(key) ?? [])];
    await this.afterListUploads?.(key);
    return listed;
  }

  async abortUploads(key: string, uploadIds: readonly string[]): Promise<number> {
    const before = this.uploads.get(key) ?? [];
    const after = before.filter((u) => !uploadIds.includes(u.uploadId));
    this.uploads.set(key, after);
    return before.length - after.length;
  }

  /** Leaves an upload in progress at `key`, as a killed copy would. */
  strand(key: string, uploadId: string): void {
    this.uploads.set(key, [...(this.uploads.get(key) ?? []), { uploadId, initiated: new Date(0) }]);
  }

  /** Stores an object as another writer would. */
  seed(key: string, bytes: Buffer, generation: string | undefined): void {
    const metadata: Record<string, string> = generation === undefined ? {} : { 'gcs-generation': generation };
    this.objects.set(key, { bytes, spec: { size: bytes.length, metadata }, etag: this.#etag(bytes) });
  }

  #etag(bytes: Buffer): string {
    return this.etagFromBytes ? `"${createHash('md5').update(bytes).digest('hex')}"` : `"etag-${++this.#etags}"`;
  }

  #check(key: string, condition: WriteCondition): void {
    const current = this.objects.get(key);
    if ('ifNoneMatch' in condition ? current !== undefined : current?.etag !== condition.ifMatch) {
      throw new PreconditionFailedError(`precondition failed for ${key}`, { code: 'PreconditionFailed' });
    }
  }
}
