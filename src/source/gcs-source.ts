import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { Storage, FileMetadata } from '@google-cloud/storage';
import { AbortedError, ReplicationError, TimeoutError, withDeadline } from '../errors.js';
import type { ObjectRef, SourceObject } from '../model.js';
import { classifyApiFailure, type ErrorCodes } from '../replicate/classify.js';
import type { Source } from '../replicate/ports.js';
import { GcsMediaGet, mediaEndpointOf } from './gcs-media-get.js';
import { startStallClock } from './stall-watchdog.js';

/**
 * The library's own retries of 429/5xx answers (retry-request): 3 retries,
 * waiting 2^n s plus up to 1 s of jitter, each wait capped at the stall
 * timeout (8 s at most). Bounded, so that a deadline can be put around them.
 */
export function gcsRetryOptions(stallTimeoutMs: number) {
  return { autoRetry: true, maxRetries: GCS_MAX_RETRIES, retryDelayMultiplier: 2, maxRetryDelay: retryCapSeconds(stallTimeoutMs), totalTimeout: 60 };
}

const GCS_MAX_RETRIES = 3;

const retryCapSeconds = (stallTimeoutMs: number): number => Math.min(8, Math.max(1, Math.round(stallTimeoutMs / 1000)));

/** The longest those retries may wait in all, ms: Σ min(2^n + 1, cap) s. */
function retryWaitMs(stallTimeoutMs: number): number {
  let total = 0;
  for (let n = 1; n <= GCS_MAX_RETRIES; n++) total += Math.min(2 ** n + 1, retryCapSeconds(stallTimeoutMs));
  return total * 1000;
}

export interface GcsSourceOptions {
  /** STALL_TIMEOUT_SECONDS in ms: a read moving no byte for this long is abandoned. */
  stallTimeoutMs: number;
  /** Where requests go (STORAGE_EMULATOR_HOST or Google's), for error messages. */
  endpoint: string;
}

/**
 * GCS adapter for the Source port: metadata on @google-cloud/storage, media
 * as one plain GET (GcsMediaGet) at the storage client's endpoint with its
 * credentials.
 *
 * Deadlines are ours: the library's `timeout` reaches node-fetch 3, which
 * has no such option (teeny-request passes it on regardless), and its calls
 * take no AbortSignal. A metadata read gets the stall timeout plus the time its
 * retries may wait; a media read may go that long without its first byte, and
 * the stall timeout without each next one. Media reads are never retried
 * here: a failed one is classified and the delivery is retried instead.
 */
export class GcsSource implements Source {
  readonly #storage: Storage;
  readonly #options: GcsSourceOptions;
  readonly #media: GcsMediaGet;

  constructor(storage: Storage, options: GcsSourceOptions) {
    this.#storage = storage;
    this.#options = options;
    this.#media = new GcsMediaGet(mediaEndpointOf(storage));
  }

  async stat(ref: ObjectRef, _signal: AbortSignal): Promise<SourceObject | undefined> {
    const file = this.#storage.bucket(ref.bucket).file(ref.name, ref.generation === undefined ? {} : { generation: ref.generation });
    const what = `GCS get metadata ${this.#options.endpoint} ${describe(ref)}`;
    try {
      const [metadata] = await withDeadline(file.getMetadata(), this.#firstByteMs, what);
      return toSourceObject(ref, metadata);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw classifyGcsError(err, what);
    }
  }

  /**
   * The stored bytes of `object`'s generation from byte `start` (a resumed
   * copy reads the rest). The stream ends in a classified error on any
   * failure; destroying it, or aborting `signal`, drops the request.
   */
  read(object: SourceObject, signal: AbortSignal, start = 0): Readable {
    const label = `GCS read ${this.#options.endpoint} ${describe(object)}`;
    // The returned stream must exist before the answer does: the response is
    // piped into it once it arrives.
    const out = new PassThrough();
    const request = new AbortController();
    const clock = startStallClock(out, {
      firstByteMs: this.#firstByteMs,
      stallMs: this.#options.stallTimeoutMs,
      onStall: (limitMs, gotFirstByte) => {
        const what = gotFirstByte ? 'no bytes' : 'no answer';
        out.destroy(new TimeoutError(`${label}: ${what} for ${limitMs / 1000} s`));
      },
    });
    const onAbort = (): void => void out.destroy(new AbortedError(`${label}: aborted`));
    out.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      request.abort();
    });
    if (signal.aborted) return out.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    this.#media.open({ bucket: object.bucket, name: object.name, generation: object.generation, start }, request.signal).then(
      (res) => {
        if (out.destroyed) return void res.destroy();
        // Not pipeline(): it destroys `out` with the raw error before its
        // callback runs, so the reader would get an unclassified error.
        res.once('error', (err) => out.destroy(classifyGcsError(err, label)));
        res.pipe(out);
        // After pipe(): a 'data' listener on a stream already piped adds no flowing of its own.
        res.on('data', clock.progress);
      },
      (err: unknown) => {
        if (!out.destroyed) out.destroy(classifyGcsError(err, label));
      },
    );
    return out;
  }

  /** Closes the media reads' idle sockets. */
  close(): void {
    this.#media.close();
  }

  get #firstByteMs(): number {
    return this.#options.stallTimeoutMs + retryWaitMs(this.#options.stallTimeoutMs);
  }
}

/** A JSON API object resource → SourceObject (`ref` fills what the resource lacks). */
export function toSourceObject(ref: ObjectRef, m: FileMetadata): SourceObject {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    if (value !== null && value !== undefined) metadata[key] = String(value);
  }
  return {
    bucket: ref.bucket,
    name: ref.name,
    generation: String(m.generation ?? ref.generation),
    metageneration: String(m.metageneration ?? '1'),
    size: Number(m.size ?? 0),
    crc32c: m.crc32c,
    md5Hash: m.md5Hash,
    contentType: m.contentType,
    contentEncoding: m.contentEncoding,
    contentDisposition: m.contentDisposition,
    contentLanguage: m.contentLanguage,
    cacheControl: m.cacheControl,
    metadata,
    timeCreated: m.timeCreated,
  };
}

function describe(ref: ObjectRef): string {
  return `gs://${ref.bucket}/${ref.name}${ref.generation === undefined ? '' : `#${ref.generation}`}`;
}

/** The HTTP status of a storage library error (ApiError's numeric `code`), or of a GcsHttpError. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** GCS's error reasons, by what they mean for a retry: a generation precondition lost. */
const GCS_ERROR_CODES: ErrorCodes = { precondition: new Set(['conditionNotMet']), permanent: new Set() };

/** GCS ApiError → classified error (`code` is the HTTP status; `errors[0].reason` the GCS reason). */
export function classifyGcsError(err: unknown, operation: string): ReplicationError {
  if (err instanceof ReplicationError) return err;
  const e = err as { code?: unknown; message?: string; errors?: Array<{ reason?: string }> } | undefined;
  const status = statusOf(err);
  const reason = e?.errors?.[0]?.reason ?? (typeof e?.code === 'string' ? e.code : undefined);
  return classifyApiFailure({ operation, status, code: reason, message: e?.message ?? String(err), cause: err }, GCS_ERROR_CODES);
}
