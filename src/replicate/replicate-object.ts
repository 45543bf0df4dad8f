import { pipeline, type Readable } from 'node:stream';
import { AbortedError, PreconditionFailedError, toReplicationError } from '../errors.js';
import { compareGenerations, isGeneration, type ObjectEvent, type ObjectRef, type Outcome, type SinkObject, type SourceObject } from '../model.js';
import { assertSameBucket, destinationKey } from './key-mapping.js';
import { metadataChanged, sourceMetadataMoved } from './metadata-diff.js';
import type { Sink, Source, WriteCondition, WriteReport } from './ports.js';
import { VerifyingStream, type Expected } from './verify-stream.js';
import { buildWriteSpec } from './write-spec.js';
import { clearStrandedUploads } from './stranded-uploads.js';

export interface ReplicateDeps {
  source: Source;
  sink: Sink;
  /** S3_KEY_PREFIX: prepended to the object name to form the destination key, `{bucket}` replaced (see key-mapping.ts). */
  keyPrefix: string;
  /**
   * REPLICATE_DELETES: a GCS delete removes the destination object. Copies
   * then also make sure they never leave behind an object GCS deleted while
   * they ran (see `settleCopy`). Default false.
   */
  replicateDeletes?: boolean;
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
 * CRC32C (MD5 where GCS has no CRC32C) before the upload completes, and nothing half-written remains.
 * Only a live generation is copied, and with deletes replicated a copy that
 * races a delete never leaves the deleted object behind (`settleCopy`).
 */
export async function replicateObject(event: ObjectEvent, deps: ReplicateDeps, signal: AbortSignal, hints?: CopyHints): Promise<Outcome> {
  const key = destinationKey(deps.keyPrefix, event.ref);
  try {
    if (signal.aborted) throw new AbortedError('aborted before start');
    switch (event.kind) {
      case 'finalize':
        return await clearStrandedUploads(event, await copyObject(event.ref, key, deps, signal, hints), deps, signal, hints?.source?.size);
      case 'metadataUpdate':
        return await updateMetadata(event.ref, key, deps, signal);
      case 'delete':
        return await clearStrandedUploads(event, await deleteObject(event.ref, key, deps, signal), deps, signal);
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
  // The destination first: it alone can say "already there" (no GCS read at
  // all), and it refuses a key it can never store before any other request.
  let existing = absent ? undefined : await deps.sink.head(key, signal);
  assertSameBucket(ref, key, existing, 'overwrite');
  if (ref.generation !== undefined) {
    const skip = skipIfCurrent(key, ref.generation, existing);
    if (skip?.status === 'skipped' && skip.reason === 'already-current') return await confirmCurrent(ref, key, skip, deps, signal);
    if (skip) return skip;
  }

  // A listing hint is a recent look at the live generations; `settleCopy` covers what changed since.
  const resolved = known === undefined ? await resolveLive(ref, key, deps, signal) : { object: known };
  if ('outcome' in resolved) return resolved.outcome;
  const { object } = resolved;
  const spec = buildWriteSpec(object);

  for (let round = 1; ; round++) {
    if (round > 1) existing = await deps.sink.head(key, signal);
    assertSameBucket(ref, key, existing, 'overwrite');
    if (round > 1 || ref.generation === undefined) {
      const skip = skipIfCurrent(key, object.generation, existing);
      // This generation is there already, perhaps with the metadata it had before a change.
      if (skip?.status === 'skipped' && skip.reason === 'already-current' && metadataChanged(object, existing!)) return await refreshMetadata(object, key, deps, signal, true);
      if (skip) return skip;
    }
    const condition: WriteCondition = existing ? { ifMatch: existing.etag } : { ifNoneMatch: '*' };
    let report: WriteReport | void;
    try {
      report = await streamOnce(object, key, spec, condition, deps, signal);
    } catch (err) {
      // Someone wrote the key between our HEAD and our write: look again.
      if (err instanceof PreconditionFailedError && round < MAX_RACE_ROUNDS) continue;
      throw err;
    }
    const found = report ? { resumedParts: report.resumedParts, strandedUploadsAborted: report.strandedUploadsAborted } : {};
    const copied: Outcome & { status: 'copied' } = { status: 'copied', key, generation: object.generation, bytes: object.size, ...found };
    return await settleCopy(copied, object, deps, signal);
  }
}

/**
 * The generation to copy, if it is live. A pinned generation that is not
 * live is never copied, even where GCS still serves it (a versioned bucket
 * keeps deleted and replaced generations as noncurrent): replaced, its
 * successor's own event copies the successor; deleted, copying it would bring
 * a deleted object back. The live stat replaces a stat of the generation, so
 * the check costs no request.
 */
async function resolveLive(ref: ObjectRef, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<{ object: SourceObject } | { outcome: Outcome }> {
  const live = await deps.source.stat({ bucket: ref.bucket, name: ref.name }, signal);
  if (live !== undefined && (ref.generation === undefined || live.generation === ref.generation)) return { object: live };
  const reason = live === undefined ? 'source-missing' : 'superseded';
  return { outcome: { status: 'skipped', key, reason, generation: ref.generation } };
}

/**
 * After a copy, one look at GCS's live object.
 *
 * Deleted meanwhile, with deletes replicated: its delete may have been
 * handled already, finding nothing (or an older generation) at the
 * destination, so nobody else would remove what this copy just wrote. Every
 * interleaving of the copy's write (W) with the delete's HEAD (H) ends with
 * nothing at the key:
 * - H after W: the delete sees this generation and removes it (generation-guarded);
 * - H before W: the delete happened in GCS before H, so before this stat,
 *   which finds no live object; the copy then removes what it wrote exactly as
 *   the delete would have (its generation or older, by ETag).
 * A newer live generation means a replacement, not a delete: its own event
 * replaces this copy.
 *
 * Metadata changed meanwhile: the same argument for a metadata update (M)
 * that found nothing, or an older generation, at the destination because its
 * HEAD came before W. The change preceded M, so precedes this stat, which
 * sees it: the copy applies it in place. An M whose HEAD comes after W finds
 * this generation and applies it itself. Either way no change is lost, and
 * the in-place update is conditional like any other (`refreshMetadata`).
 */
async function settleCopy(copied: Outcome & { status: 'copied' }, object: SourceObject, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  const live = await deps.source.stat({ bucket: object.bucket, name: object.name }, signal);
  if (live === undefined) {
    if (deps.replicateDeletes !== true) return copied;
    return await removeDeleted({ bucket: object.bucket, name: object.name, generation: object.generation }, copied.key, deps, signal);
  }
  if (live.generation === object.generation && sourceMetadataMoved(object, live)) await refreshMetadata(live, copied.key, deps, signal, true);
  return copied;
}

/**
 * The destination already holds this generation: a repeated event, or a
 * copy stopped between its write and `settleCopy` (a crash, a failed stat).
 * The redelivered event finishes that check here: with deletes replicated, a
 * generation GCS deleted meanwhile is removed; metadata changed since the
 * copy is applied in place. One stat, only for repeated events.
 */
async function confirmCurrent(ref: ObjectRef & { generation?: string }, key: string, skip: Outcome, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  if (ref.generation === undefined) return skip;
  const live = await deps.source.stat({ bucket: ref.bucket, name: ref.name }, signal);
  if (live === undefined) return deps.replicateDeletes === true ? await removeDeleted({ bucket: ref.bucket, name: ref.name, generation: ref.generation }, key, deps, signal) : skip;
  if (live.generation !== ref.generation) return skip;
  return await refreshMetadata(live, key, deps, signal, true);
}

/** GCS has no live object: remove what the delete path would remove; the copy ends as "source missing". */
async function removeDeleted(ref: ObjectRef & { generation: string }, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  await deleteObject(ref, key, deps, signal);
  return { status: 'skipped', key, reason: 'source-missing', generation: ref.generation };
}

async function streamOnce(
  object: SourceObject,
  key: string,
  spec: ReturnType<typeof buildWriteSpec>,
  condition: WriteCondition,
  deps: ReplicateDeps,
  signal: AbortSignal,
): Promise<WriteReport | void> {
  let raw: Readable | undefined;
  let body: VerifyingStream | undefined;
  // The GCS read starts when the destination first reads the body: one that
  // refuses the write up front (a key it cannot store) costs no GCS request.
  const open = (start: number): Readable => {
    const opened: VerifyingStream = new VerifyingStream(expectedFrom(object, start), () => {
      raw = deps.source.read(object, signal, start);
      pipeline(raw, opened, () => {
        // Errors reach the consumer through `opened`; nothing else to do here.
      });
    });
    body = opened;
    return opened;
  };
  const onAbort = (): void => {
    body?.destroy(new AbortedError(`copy of gs://${object.bucket}/${object.name} aborted`));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await deps.sink.write(key, open, spec, condition, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Releases the GCS read if the sink stopped early.
    if (raw !== undefined && !raw.destroyed) raw.destroy();
  }
}

/**
 * What the bytes read from `start` must be. Only a whole read can be checked
 * against GCS's CRC32C (or its MD5 where it has no CRC32C); a resumed copy's read (start past 0) is
 * checked for its length, and the destination's check of the full-object
 * CRC32C at completion covers the whole object.
 */
function expectedFrom(object: SourceObject, start: number): Expected {
  const label = `gs://${object.bucket}/${object.name}#${object.generation}`;
  if (start === 0) return { label, size: object.size, crc32c: object.crc32c, md5Hash: object.md5Hash };
  return { label: `${label} from byte ${start}`, size: object.size - start };
}

function skipIfCurrent(key: string, generation: string, existing: SinkObject | undefined): Outcome | undefined {
  const held = provenGeneration(existing);
  if (held === undefined) return undefined;
  const order = compareGenerations(held, generation);
  if (order === 0) return { status: 'skipped', key, reason: 'already-current', generation, destinationGeneration: held };
  if (order > 0) return { status: 'skipped', key, reason: 'newer-at-destination', generation, destinationGeneration: held };
  return undefined;
}

/**
 * The GCS generation a destination object is a copy of, from its provenance;
 * undefined when it has none gcs2s3 could have written (no
 * `gcs-generation`, or a value that is not a decimal int64). Such an object
 * was written by something else: the worker owns its keys, so it counts as
 * older than every generation (a copy replaces it, a replicated delete
 * removes it, a metadata update leaves it to the next copy), and a value
 * that cannot be compared never fails an event for ever.
 */
function provenGeneration(existing: SinkObject | undefined): string | undefined {
  const generation = existing?.generation;
  return generation !== undefined && isGeneration(generation) ? generation : undefined;
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
  return await refreshMetadata(ref, key, deps, signal, false);
}

/**
 * Brings the headers and metadata of the destination's copy of
 * `ref.generation` to what GCS holds now, so late, repeated or racing events
 * converge on the newest metageneration. Only the generation the destination
 * holds is touched (another generation's own FINALIZE carries its metadata),
 * and only while it is live (a replaced or deleted generation's copy is
 * replaced or removed by that event). A metadata event always writes
 * (`onlyIfChanged` false); a copy finding its generation there writes only
 * when the metadata moved. After each write GCS is read again: a change made
 * meanwhile may have been applied before this one (an in-place copy keeps the
 * ETag, so the condition cannot tell), and is then applied again.
 */
async function refreshMetadata(ref: ObjectRef & { generation: string }, key: string, deps: ReplicateDeps, signal: AbortSignal, onlyIfChanged: boolean): Promise<Outcome> {
  let applied = false;
  for (let round = 1; ; round++) {
    const existing = await deps.sink.head(key, signal);
    if (existing === undefined) return { status: 'skipped', key, reason: 'absent-at-destination', generation: ref.generation };
    assertSameBucket(ref, key, existing, 'update');
    const held = provenGeneration(existing);
    if (held === undefined || compareGenerations(held, ref.generation) !== 0) {
      const newer = held !== undefined && compareGenerations(held, ref.generation) > 0;
      return { status: 'skipped', key, reason: newer ? 'newer-at-destination' : 'absent-at-destination', generation: ref.generation, destinationGeneration: held };
    }
    const resolved = await resolveLive(ref, key, deps, signal);
    if ('outcome' in resolved) return resolved.outcome;
    const live = resolved.object;
    if ((onlyIfChanged || applied) && !metadataChanged(live, existing)) {
      return applied ? { status: 'updated', key, generation: ref.generation } : { status: 'skipped', key, reason: 'already-current', generation: ref.generation, destinationGeneration: held };
    }
    try {
      await applyMetadata(live, key, existing, deps, signal);
    } catch (err) {
      if (err instanceof PreconditionFailedError && round < MAX_RACE_ROUNDS) continue;
      throw err;
    }
    applied = true;
    const settled = await settleUpdate(ref, key, live, deps, signal);
    if (settled !== undefined || round >= MAX_RACE_ROUNDS) return settled ?? { status: 'updated', key, generation: ref.generation };
  }
}

/**
 * Writes `live`'s headers and metadata over `existing`, the copy of the same
 * generation: in place, or, when the destination cannot copy the object in
 * place (an archived object must be restored first), by writing the object
 * again from GCS under the same condition. Never reads destination bytes.
 */
async function applyMetadata(live: SourceObject, key: string, existing: SinkObject, deps: ReplicateDeps, signal: AbortSignal): Promise<void> {
  const condition = { ifMatch: existing.etag };
  if (existing.archived === true) await streamOnce(live, key, buildWriteSpec(live), condition, deps, signal);
  else await deps.sink.updateMetadata(key, buildWriteSpec(live), condition, signal);
}

/**
 * After an in-place metadata update. Its condition is an ETag, and an ETag
 * cannot tell two generations with the same bytes apart (S3's ETag of a
 * single-part object is the MD5 of its bytes; an in-place copy keeps it).
 * A newer generation with the same bytes, copied between our HEAD and our
 * CopyObject, then had its metadata and provenance replaced by this older
 * generation's. Only GCS can say: if a newer generation is live now, it may
 * have been there, so it is copied now (its own event may have come and gone;
 * when it has not, that event finds it current). A generation deleted since
 * is handled as after a copy. Undefined when the same generation's metadata
 * moved since `applied` was read: the caller applies it again.
 */
async function settleUpdate(ref: ObjectRef & { generation: string }, key: string, applied: SourceObject, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome | undefined> {
  const updated: Outcome = { status: 'updated', key, generation: ref.generation };
  const live = await deps.source.stat({ bucket: ref.bucket, name: ref.name }, signal);
  if (live === undefined) return deps.replicateDeletes === true ? await removeDeleted(ref, key, deps, signal) : updated;
  if (live.generation === ref.generation) return sourceMetadataMoved(applied, live) ? undefined : updated;
  const repaired = await copyKnown({ bucket: ref.bucket, name: ref.name, generation: live.generation }, key, deps, signal, undefined, false);
  return repaired.status === 'copied' ? repaired : updated;
}

/**
 * Removes the destination object if it holds this generation, an older one,
 * or no generation of ours. Finding nothing is final: a copy of this
 * generation still running when the delete happened in GCS removes what it
 * writes itself (`settleCopy`), and one that runs later copies nothing
 * (`resolveLive`), so either order of copy and delete ends with nothing.
 */
async function deleteObject(ref: ObjectRef & { generation: string }, key: string, deps: ReplicateDeps, signal: AbortSignal): Promise<Outcome> {
  for (let round = 1; ; round++) {
    const existing = await deps.sink.head(key, signal);
    if (existing === undefined) return { status: 'skipped', key, reason: 'absent-at-destination', generation: ref.generation };
    assertSameBucket(ref, key, existing, 'delete');
    const held = provenGeneration(existing);
    if (held !== undefined && compareGenerations(held, ref.generation) > 0) {
      return { status: 'skipped', key, reason: 'newer-at-destination', generation: ref.generation, destinationGeneration: held };
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
