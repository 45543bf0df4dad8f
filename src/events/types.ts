import type { Config } from '../config/config.js';
import type { ObjectEvent, ObjectRef } from '../model.js';

/**
 * What the decoders need to know about the configuration to decide whether an
 * event is ours to act on. A subset of Config so the decoders stay pure and
 * their tests need no environment.
 */
export interface EventPolicy {
  /** SOURCE_BUCKETS: events from other buckets are ignored; empty means every bucket. */
  sourceBuckets: string[];
  /** INCLUDE_PREFIXES: only object names starting with one of these; empty means every name. */
  includePrefixes: string[];
  /** EXCLUDE_PREFIXES: object names starting with one of these are ignored (wins over include). */
  excludePrefixes: string[];
  /** REPLICATE_DELETES: a delete (or archive) of the live object removes the S3 copy. */
  replicateDeletes: boolean;
}

/**
 * The result of decoding one notification, push request or CloudEvent. Never
 * thrown: every input maps to exactly one of these, so an adapter can always
 * answer (ack / 204 / 400) instead of letting a bad message redeliver forever.
 */
export type Decoded =
  /** Something to replicate: hand it to `replicateObject`. */
  | { type: 'event'; event: ObjectEvent }
  /**
   * Valid, but not ours to act on (filtered bucket or prefix, deletes not
   * replicated, the old generation of an overwrite). Ack silently; log at
   * INFO/DEBUG. `ref` is there whenever the message named an object.
   */
  | { type: 'ignored'; reason: string; ref?: ObjectRef }
  /**
   * Permanently undecodable: retrying can never help. Ack (400 for push) and
   * log at ERROR with `reason`, which names the attribute or field at fault and
   * never echoes more than ~200 characters of the input.
   */
  | { type: 'malformed'; reason: string };

/** Result of a push decoder: also carries the Pub/Sub message id, for logs. */
export type DecodedPush = Decoded & { messageId?: string };

/**
 * The GCS notification event types (Pub/Sub notifications for Cloud Storage,
 * `eventType` attribute). Eventarc's CloudEvent types map onto these.
 */
export const GCS_EVENT_TYPES = ['OBJECT_FINALIZE', 'OBJECT_METADATA_UPDATE', 'OBJECT_DELETE', 'OBJECT_ARCHIVE'] as const;
export type GcsEventType = (typeof GCS_EVENT_TYPES)[number];

/** The part of Config the decoders read. Arrays are copied: the policy never aliases Config. */
export function eventPolicyFromConfig(config: Config): EventPolicy {
  return {
    sourceBuckets: [...config.filters.sourceBuckets],
    includePrefixes: [...config.filters.includePrefixes],
    excludePrefixes: [...config.filters.excludePrefixes],
    replicateDeletes: config.replicateDeletes,
  };
}
