import { pipeline } from 'node:stream';
import { AbortedError, PreconditionFailedError, toReplicationError } from '../errors.js';
import { compareGenerations, type ObjectEvent, type ObjectRef, type Outcome, type SinkObject, type SourceObject } from '../model.js';
import type { Sink, Source, WriteCondition } from './ports.js';
import { VerifyingStream } from './verify-stream.js';
import { buildWriteSpec } from './write-spec.js';

export interface ReplicateDeps {
  source: Source;
  sink: Sink;
  /** Prepended to the object name to form the destination key (S3_KEY_PREFIX). */
  keyPrefix: string;
}

/**
 * What the caller already knows from a listing, so a copy can skip requests
 * (backfill: two per object instead of four). Hints only save work; they never
 * decide the result: a write planned as "absent" is still conditional
 * (If-None-Match), and a hinted copy that fails is retried once without hints,
 * so a generation deleted or replaced since the listing ends as it would have.
 */
export interface CopyHints {
  /** The object resource of exactly `event.ref.generation`, from a listing: no metadata read. */
  source?: SourceObject;
  /** The destination's listing showed no object at the key: no HEAD first. */
  absentInSink?: boolean;
}

/**
 * Conditional writes that lose a race are re-decided from a fresh HEAD. Each
 * loss means another writer made progress, so a handful is plenty.
 */
const MAX_RACE_ROUNDS = 5;

/**
 * Brings the destination in line with one GCS event. Never throws: failures come back as a
 * `failed` outcome carrying a classified error, so every adapter maps outcomes
 * the same way (ack/nack, HTTP status, report line).
 *
 * Guarantees: the destination object at the key is only ever replaced by a newer GCS
 * generation (conditional writes on the ETag just read), its bytes match GCS's
 * CRC32C/MD5 before the upload completes, and nothing half-written remains.
 */
export async function replicateObject(event: ObjectEvent, deps: ReplicateDeps, signal: AbortSignal, hints?: CopyHints): Promise<Outcome> {
  const key = deps.keyPrefix + event.ref.name;
  try {
    if (signal.aborted) throw new AbortedError('aborted before start');
    switch (event.kind) {
      case 'finalize':
        return await copyObject(event.ref, key, deps, signal, hints);
      case 'metadataUpdate':
        return await updateMetadata(event.ref, key, deps, signal);
      case 'delete':
        return await deleteObject(event.ref, key, deps, signal);
    }
  } catch (err) {
    const error = toReplicationError(signal.aborted && !(err instanceof AbortedError) ? new AbortedError('aborted', { cause: err }) : err);
    return { status: 'failed', key, retryable: error.retryable, error, generation: event.ref.generation };
  }
}

async function copyObject(ref: ObjectRef, key: string, deps: ReplicateDeps, signal: AbortSignal, hints?: CopyHints): Promise<Outcome> {
  const known = ref.generation !== undefined && hints?.source?.generation === ref.generation ? hints.source : undefined;
  const absent = ref.generation !== undefined && hints?.absentInSink === true;
  if (known !== undefined || absent) {
    try {
      return await copyKnown(ref, key, deps, signal, known, absent);
    } catch (err) {
      if (signal.aborted) throw err;
      // The listing may be out of date (the generation deleted or replaced since): decide afresh.
    }
  }
  return await copyKnown(ref, key, deps, signal, undefined, false);
}

async function copyKnown(ref: ObjectRef, key: string, deps: ReplicateDeps, signal: AbortSignal, known: SourceObject | undefined, absent: boolean): Promise<Outcome> {
  let existing: SinkObject | undefined;
  // With a known generation, the destination alone can say "already there": no GCS read at all.
  if (ref.generation !== undefined && !absent) {
    existing = await deps.sink.head(key, signal);
    const skip = skipIfCurrent(key, ref.generation, existing);
    if (skip) return skip;
  }

  const object = known ?? (await deps.source.stat(ref, signal));
  if (object === undefined) return await whyMissing(ref, key, deps, signal);
  const spec = buildWriteSpec(object);

  for (let round = 1; ; round++) {
    if (round > 1 || ref.generation === undefined) {
      existing = await deps.sink.head(key, signal);
      const skip = skipIfCurrent(key, object.generation, existing);
      if (skip) return skip;
    }
    const condition: WriteCondition = existing ? { ifMatch: existing.etag } : { ifNoneMatch: '*' };
    try {
      const bytes = await streamOnce(object, key, spec, condition, deps, signal);
      return { status: 'copied', key, generation: object.generation, bytes };
    } catch (err) {
      // Someone wrote the key between our HEAD and our write: look again.
      if (err instanceof PreconditionFailedError && round < MAX_RACE_ROUNDS) continue;
      throw err;
    }
  }
}

async function streamOnce(
  object: SourceObject,
  key: string,
  spec: ReturnType<typeof buildWriteSpec>,
  condition: WriteCondition,
  deps: ReplicateDeps,
  signal: AbortSignal,
): Promise<number> {
  const verifier = new VerifyingStream({
    label: `gs://${object.bucket}/${object.name}#${object.generation}`,
    size: object.size,
    crc32c: object.crc32c,
    md5Hash: object.md5Hash,
  });
  const raw = deps.source.read(object, signal);
  const body = pipeline(raw, verifier, () => {
    // Errors reach the consumer through `verifier`; nothing else to do here.
  });
  const onAbort = (): void => {
    body.destroy(new AbortedError(`copy of gs://${object.bucket}/${object.name} aborted`));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await deps.sink.write(key, body, spec, condition, signal);
    return verifier.bytes;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Releases the GCS read if the sink stopped early.
    if (!raw.destroyed) raw.destroy();
  }
}

function skipIfCurrent(key: string, generation: string, existing: SinkObject | undefined): Outcome | undefined {
  if (existing?.generation === undefined) return undefined;
  const order = compareGenerations(existing.generation, generation);
  if (order === 0) return { status: 'skipped', key, reason: 'already-current', generation, destinationGeneration: existing.generation };
  if (order > 0) return { status: 'skipped', key, reason: 'newer-at-destination', generation, destinationGeneration: existing.generation };
  return undefined;
}

/** The pinned generation is gone from GCS: replaced (superseded) or deleted. */
async function whyMissing(ref: ObjectRef, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  if (ref.generation !== undefined) {
    const live = await deps.source.stat({ bucket: ref.bucket, name: ref.name }, signal);
    if (live !== undefined) return { status: 'skipped', key, reason: 'superseded', generation: ref.generation };
  }
  return { status: 'skipped', key, reason: 'source-missing', generation: ref.generation };
}

async function updateMetadata(ref: ObjectRef & { generation: string }, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  for (let round = 1; ; round++) {
    const existing = await deps.sink.head(key, signal);
    if (existing === undefined) return { status: 'skipped', key, reason: 'absent-at-destination', generation: ref.generation };
    // Only the generation the destination holds gets its metadata refreshed; another generation's own FINALIZE carries its metadata.
    if (existing.generation === undefined || compareGenerations(existing.generation, ref.generation) !== 0) {
      const newer = existing.generation !== undefined && compareGenerations(existing.generation, ref.generation) > 0;
      return { status: 'skipped', key, reason: newer ? 'newer-at-destination' : 'absent-at-destination', generation: ref.generation, destinationGeneration: existing.generation };
    }
    // Read the metadata GCS has now for that generation, so late or repeated events converge.
    const object = await deps.source.stat(ref, signal);
    if (object === undefined) return await whyMissing(ref, key, deps, signal);
    try {
      await deps.sink.updateMetadata(key, buildWriteSpec(object), { ifMatch: existing.etag }, signal);
      return { status: 'updated', key, generation: ref.generation };
    } catch (err) {
      if (err instanceof PreconditionFailedError && round < MAX_RACE_ROUNDS) continue;
      throw err;
    }
  }
}

async function deleteObject(ref: ObjectRef & { generation: string }, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  for (let round = 1; ; round++) {
    const existing = await deps.sink.head(key, signal);
    if (existing === undefined) return { status: 'skipped', key, reason: 'absent-at-destination', generation: ref.generation };
    if (existing.generation !== undefined && compareGenerations(existing.generation, ref.generation) > 0) {
      return { status: 'skipped', key, reason: 'newer-at-destination', generation: ref.generation, destinationGeneration: existing.generation };
    }
    try {
      await deps.sink.remove(key, { ifMatch: existing.etag }, signal);
      return { status: 'deleted', key, generation: ref.generation };
    } catch (err) {
      if (err instanceof PreconditionFailedError && round < MAX_RACE_ROUNDS) continue;
      throw err;
    }
  }
}
