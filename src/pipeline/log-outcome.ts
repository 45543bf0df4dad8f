import type { Logger } from '../log/logger.js';
import { MIB } from '../units.js';
import type { ObjectEvent, ObjectRef, Outcome } from '../model.js';

/** The ways in, as written in the `via` field of every outcome line. */
export type Via = 'pull' | 'push' | 'cloudevent' | 'copy' | 'backfill';

export interface OutcomeContext {
  event: ObjectEvent;
  outcome: Outcome;
  durationMs: number;
  /** Where the event came from. */
  via: Via;
  /** Extra fields (messageId, deliveryAttempt, lagSeconds…). */
  fields?: Record<string, unknown>;
}

/**
 * One log line per event, with the fields log-based metrics read: object,
 * generation, outcome, bytes, durationMs. Failures that will not be retried
 * are ERROR; retryable ones WARNING; the rest INFO.
 */
export function logOutcome(logger: Logger, ctx: OutcomeContext): void {
  const { event, outcome, durationMs, via } = ctx;
  const fields: Record<string, unknown> = {
    via,
    event: event.kind,
    object: objectUrl(event.ref),
    generation: outcome.generation ?? event.ref.generation,
    key: outcome.key,
    outcome: outcome.status,
    durationMs: Math.round(durationMs),
    ...ctx.fields,
  };
  // How many uploads left at the key by killed or failed copies this handling aborted (docs/resumable-copies.md).
  if (outcome.strandedUploadsAborted !== undefined) fields.strandedUploadsAborted = outcome.strandedUploadsAborted;
  switch (outcome.status) {
    case 'copied':
      fields.bytes = outcome.bytes;
      if (outcome.resumedParts !== undefined) fields.resumedParts = outcome.resumedParts;
      fields.throughputMiBps = durationMs > 0 ? Number((outcome.bytes / MIB / (durationMs / 1000)).toFixed(2)) : undefined;
      logger.info(`copied ${fields.object} (${outcome.bytes} bytes)`, fields);
      return;
    case 'updated':
      logger.info(`updated metadata of ${fields.object}`, fields);
      return;
    case 'deleted':
      logger.info(`deleted the copy of ${fields.object}`, fields);
      return;
    case 'skipped':
      fields.reason = outcome.reason;
      if (outcome.destinationGeneration !== undefined) fields.destinationGeneration = outcome.destinationGeneration;
      logger.info(`skipped ${fields.object}: ${outcome.reason}`, fields);
      return;
    case 'failed':
      fields.retryable = outcome.retryable;
      fields.error = outcome.error;
      if (outcome.retryable) logger.warn(`${event.kind} of ${fields.object} failed (transient): ${outcome.error.message}`, fields);
      else logger.error(`${event.kind} of ${fields.object} failed permanently: ${outcome.error.message}`, fields);
      return;
  }
}

/**
 * Replication lag, for completed work: a copy's from the generation's creation
 * (else the event) to now; a metadata update's or delete's from the event,
 * since the generation may have been created long before.
 */
export function lagFields(event: ObjectEvent, status: string, nowMs: number): Record<string, number> {
  if (status !== 'copied' && status !== 'updated' && status !== 'deleted') return {};
  const since = status === 'copied' ? (event.timeCreated ?? event.eventTime) : (event.eventTime ?? event.timeCreated);
  if (since === undefined) return {};
  const t = Date.parse(since);
  return Number.isNaN(t) ? {} : { lagSeconds: Math.max(0, (nowMs - t) / 1000) };
}

/** `gs://bucket/name`, as every log line names an object. */
export function objectUrl(ref: ObjectRef): string {
  return `gs://${ref.bucket}/${ref.name}`;
}
