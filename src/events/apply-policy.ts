/**
 * The one place that turns a well-formed GCS event into an ObjectEvent or an
 * "ignored" verdict. Every transport (Pub/Sub pull, push, unwrapped push,
 * CloudEvents) decodes into a GcsEventCandidate and ends here, so the filters
 * and the delete rules cannot drift apart between transports.
 */
import type { EventTimes, ObjectRef } from '../model.js';
import { quote } from './decode-helpers.js';
import type { Decoded, EventPolicy, GcsEventType } from './types.js';

/** A structurally valid event, before policy: what every decoder produces. */
export interface GcsEventCandidate extends EventTimes {
  eventType: GcsEventType;
  ref: ObjectRef & { generation: string };
  /**
   * `overwrittenByGeneration` attribute: present on the OBJECT_DELETE /
   * OBJECT_ARCHIVE that GCS sends for the old generation when an object is
   * overwritten. CloudEvents do not carry it.
   */
  overwrittenByGeneration?: string;
}

/**
 * Applies SOURCE_BUCKETS, INCLUDE/EXCLUDE_PREFIXES and the delete rules:
 * - the old generation of an overwrite is never a delete (the new generation's
 *   OBJECT_FINALIZE replaces the S3 object; deleting would lose it if the
 *   events arrive in the other order);
 * - OBJECT_DELETE, and OBJECT_ARCHIVE (in a versioned bucket: the live version
 *   became noncurrent, i.e. the live object was deleted), delete only when
 *   REPLICATE_DELETES is true. The core still guards by generation: it deletes
 *   only an S3 copy holding this generation or an older one.
 */
export function applyPolicy(candidate: GcsEventCandidate, policy: EventPolicy): Decoded {
  const { eventType, ref } = candidate;
  const filtered = filterReason(ref, policy);
  if (filtered !== undefined) return { type: 'ignored', reason: filtered, ref };

  const times = pickTimes(candidate);
  switch (eventType) {
    case 'OBJECT_FINALIZE':
      return { type: 'event', event: { kind: 'finalize', ref, ...times } };
    case 'OBJECT_METADATA_UPDATE':
      return { type: 'event', event: { kind: 'metadataUpdate', ref, ...times } };
    case 'OBJECT_DELETE':
    case 'OBJECT_ARCHIVE': {
      if (candidate.overwrittenByGeneration !== undefined) {
        return {
          type: 'ignored',
          reason: `${eventType} of the old generation of an overwrite (overwrittenByGeneration=${quote(candidate.overwrittenByGeneration)}): the new generation replaces the S3 object`,
          ref,
        };
      }
      if (!policy.replicateDeletes) {
        return { type: 'ignored', reason: `${eventType}: deletes are not replicated (REPLICATE_DELETES=false)`, ref };
      }
      return { type: 'event', event: { kind: 'delete', ref, ...times } };
    }
  }
}

/** Why the filters reject this object, or undefined when they accept it. */
export function filterReason(ref: ObjectRef, policy: EventPolicy): string | undefined {
  if (policy.sourceBuckets.length > 0 && !policy.sourceBuckets.includes(ref.bucket)) {
    return `bucket ${quote(ref.bucket)} is not in SOURCE_BUCKETS`;
  }
  if (policy.includePrefixes.length > 0 && !policy.includePrefixes.some((p) => ref.name.startsWith(p))) {
    return `object name ${quote(ref.name)} matches no INCLUDE_PREFIXES`;
  }
  const excluded = policy.excludePrefixes.find((p) => ref.name.startsWith(p));
  if (excluded !== undefined) return `object name ${quote(ref.name)} matches EXCLUDE_PREFIXES ${quote(excluded)}`;
  return undefined;
}

function pickTimes(candidate: EventTimes): EventTimes {
  const times: EventTimes = {};
  if (candidate.eventTime !== undefined) times.eventTime = candidate.eventTime;
  if (candidate.timeCreated !== undefined) times.timeCreated = candidate.timeCreated;
  if (candidate.size !== undefined) times.size = candidate.size;
  return times;
}
