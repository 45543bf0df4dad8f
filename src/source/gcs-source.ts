import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { Storage, FileMetadata } from '@google-cloud/storage';
import { ReplicationError } from '../errors.js';
import type { ObjectRef, SourceObject } from '../model.js';
import { classifyApiFailure, type ErrorCodes } from '../replicate/classify.js';
import type { Source } from '../replicate/ports.js';

/** GCS adapter for the Source port, on @google-cloud/storage. */
export class GcsSource implements Source {
  readonly #storage: Storage;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  async stat(ref: ObjectRef, _signal: AbortSignal): Promise<SourceObject | undefined> {
    const file = this.#storage.bucket(ref.bucket).file(ref.name, ref.generation === undefined ? {} : { generation: ref.generation });
    try {
      const [metadata] = await file.getMetadata();
      return toSourceObject(ref, metadata);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw classifyGcsError(err, `GCS get metadata ${describe(ref)}`);
    }
  }

  read(object: SourceObject, signal: AbortSignal, start = 0): Readable {
    const file = this.#storage.bucket(object.bucket).file(object.name, { generation: object.generation });
    // decompress: false keeps gzip-encoded objects as stored; our own
    // VerifyingStream checks CRC32C/MD5, so the library's check is off. A
    // start past 0 is a ranged read (a resumed copy): the library could not
    // check a part of the object against its whole-object hashes anyway.
    const raw = file.createReadStream({ decompress: false, validation: false, ...(start > 0 ? { start } : {}) });
    const out = new PassThrough();
    const label = `GCS read ${describe(object)}`;
    // Not pipeline(): it destroys `out` with the raw error before its callback
    // runs, so the reader would get an unclassified error.
    raw.on('error', (err) => out.destroy(classifyGcsError(err, label)));
    raw.pipe(out);
    // Destroying `out` (abort, or the sink giving up) must stop the download
    // too. Not while the request is awaiting its response, though: the
    // library pipes the response into `raw` when it arrives and throws,
    // uncaught, if `raw` is destroyed by then (ERR_STREAM_UNABLE_TO_PIPE). So
    // it is destroyed once the library has wired the response up.
    let responded = false;
    raw.once('response', () => {
      responded = true;
    });
    out.once('close', () => {
      if (raw.destroyed) return;
      if (responded) raw.destroy();
      else raw.once('response', () => setImmediate(() => raw.destroy()));
    });
    if (signal.aborted) out.destroy();
    return out;
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

function statusOf(err: unknown): number | undefined {
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
