import { compareGenerations, isGeneration, type ObjectEvent, type Outcome } from '../model.js';
import type { Sink, Source } from './ports.js';

/** What the cleanup needs of the replication dependencies. */
export interface CleanupDeps {
  source: Source;
  sink: Sink;
}

/**
 * After an event for a key was handled without a copy (skipped, deleted, or
 * a repeated finalize that only refreshed metadata),
 * aborts the multipart uploads left at exactly that key by killed or failed
 * copies of generations that will never be copied now
 * (docs/resumable-copies.md, "Stranded uploads"). A copy that starts clears
 * them itself (its fingerprint check), so only the other decisions need this.
 *
 * Cost: nothing unless the event's own generation is large enough to be a
 * multipart upload (its size from the event, else from a backfill listing,
 * `listedSize`), or its size is unknown (`copy` with a pinned generation, a
 * notification without payload). Only such a generation's copy can have
 * stranded an upload, and it is that copy's event that comes back after a
 * kill (never acked). Then one ListMultipartUploads; and only when it lists
 * uploads, one GCS stat and one HEAD before aborting them.
 *
 * Safety: the listed uploads are aborted only when no generation is left to
 * copy: GCS has no live object, or the destination already holds the live
 * generation (or a newer one). Otherwise the live generation's copy owns the
 * key and resumes or replaces them itself. Only uploads listed before that
 * check are aborted, so an upload created for a generation written after it
 * is never touched (a generation written before the listing is seen by the
 * stat, which comes after it).
 */
export async function clearStrandedUploads(event: ObjectEvent, outcome: Outcome, deps: CleanupDeps, signal: AbortSignal, listedSize?: number): Promise<Outcome> {
  if (!mayHaveStranded(event.size === undefined && listedSize !== undefined ? { ...event, size: listedSize } : event, outcome, deps.sink)) return outcome;
  const { key } = outcome;
  const uploads = await deps.sink.listUploads(key, signal);
  if (uploads.length === 0) return { ...outcome, strandedUploadsAborted: 0 };
  if (!(await nothingLeftToCopy(event, key, deps, signal))) return { ...outcome, strandedUploadsAborted: 0 };
  const aborted = await deps.sink.abortUploads(
    key,
    uploads.map((u) => u.uploadId),
    signal,
  );
  return { ...outcome, strandedUploadsAborted: aborted };
}

/**
 * Whether this handling looks for stranded uploads at all: a finalize or
 * delete event decided without a copy, whose generation is (or may be)
 * multipart-sized.
 */
export function mayHaveStranded(event: ObjectEvent, outcome: Outcome, sink: Pick<Sink, 'isMultipart'>): boolean {
  if (event.kind === 'metadataUpdate') return false;
  // `updated` here: a finalize that found its generation in S3 and only refreshed its metadata.
  if (outcome.status !== 'skipped' && outcome.status !== 'deleted' && outcome.status !== 'updated') return false;
  return event.size === undefined || sink.isMultipart(event.size);
}

/** True when GCS has no live object at the key's name, or the destination holds its live generation or a newer one. */
async function nothingLeftToCopy(event: ObjectEvent, key: string, deps: CleanupDeps, signal: AbortSignal): Promise<boolean> {
  const live = await deps.source.stat({ bucket: event.ref.bucket, name: event.ref.name }, signal);
  if (live === undefined) return true;
  const existing = await deps.sink.head(key, signal);
  const held = existing?.generation;
  if (existing?.sourceBucket !== undefined && existing.sourceBucket !== event.ref.bucket) return false;
  return held !== undefined && isGeneration(held) && compareGenerations(held, live.generation) >= 0;
}
