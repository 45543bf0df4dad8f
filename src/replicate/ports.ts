import type { Readable } from 'node:stream';
import type { ObjectRef, SinkObject, SourceObject } from '../model.js';

/**
 * Where objects come from (GCS). Adapters throw classified errors
 * (TransientError / PermanentError); "not found" is a value, not an error.
 */
export interface Source {
  /** Metadata of `ref` (its live generation when `ref.generation` is unset); undefined when absent. */
  stat(ref: ObjectRef, signal: AbortSignal): Promise<SourceObject | undefined>;
  /**
   * The stored bytes of exactly `object.generation`, never decompressed, from
   * byte `start` (default 0) to the end: a resumed copy reads only what the
   * destination lacks. The stream errors with a classified error on failure;
   * destroying it releases the read.
   */
  read(object: SourceObject, signal: AbortSignal, start?: number): Readable;
}

/**
 * Headers and user metadata of a destination object, decided by the core. The
 * destination checks them against its own limits (S3: 2 KB of user metadata)
 * and refuses what it cannot store with a PermanentError before any request.
 */
export interface WriteSpec {
  size: number;
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** User metadata without the `x-amz-meta-` prefix: custom metadata plus provenance. */
  metadata: Record<string, string>;
}

/**
 * Opens the object's bytes from byte `start` to the end (0: all of them). A
 * destination calls it at most once per write, with a later start only when
 * it continues an upload that already holds the bytes before `start`.
 */
export type OpenBody = (start: number) => Readable;

/** Conditional write: replace exactly the object we looked at, or create only if absent. */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' };

/**
 * Where objects go (the destination: S3 today, see src/sink/destination.ts).
 * A lost conditional write throws PreconditionFailedError.
 */
export interface Sink {
  head(key: string, signal: AbortSignal): Promise<SinkObject | undefined>;
  /**
   * Streams the body to `key`. On failure nothing is left behind, except that
   * a large upload failing transiently (or aborted by `signal`) keeps its parts
   * for the next write of the same generation and headers to resume.
   */
  write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition, signal: AbortSignal): Promise<WriteReport | void>;
  /** Replaces headers and metadata of the object at `key` in place (it must still have etag `ifMatch`). */
  updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }, signal: AbortSignal): Promise<void>;
  /** Deletes `key` if it still has etag `ifMatch`. */
  remove(key: string, condition: { ifMatch: string }, signal: AbortSignal): Promise<void>;
  /**
   * True when a write of `size` bytes is a multipart upload: only those can
   * be left in progress by a killed process (a single request cannot).
   */
  isMultipart(size: number): boolean;
  /** Multipart uploads in progress at exactly `key` (not at longer keys that share it as a prefix). */
  listUploads(key: string, signal: AbortSignal): Promise<PendingUpload[]>;
  /** Aborts these uploads at `key`; returns how many it aborted (one already gone is not counted). */
  abortUploads(key: string, uploadIds: readonly string[], signal: AbortSignal): Promise<number>;
}

/** What a write found on its way, where the destination can tell. */
export interface WriteReport {
  /** Parts of an earlier attempt's upload that this write kept instead of sending again. */
  resumedParts: number;
  /** Uploads at the key for another generation, headers or part size, aborted before writing. */
  strandedUploadsAborted: number;
}

/** A multipart upload in progress at a key. */
export interface PendingUpload {
  uploadId: string;
  /** When it was created, where the destination says. */
  initiated?: Date;
}
