import type { MergedEntry } from './merge.js';
import type { ListedSinkObject, ListedSourceObject } from './ports.js';

/** Why backfill copies an object. */
export type CopyReason =
  /** No S3 object at the key. */
  | 'missing'
  /** The S3 object's size differs from the GCS generation's. */
  | 'stale-size'
  /** The S3 object was last written before the GCS generation was created. */
  | 'stale-time';

/** What backfill does with one merged entry. */
export type PlanDecision =
  | { action: 'copy'; reason: CopyReason; name: string; object: ListedSourceObject; existing?: ListedSinkObject }
  | { action: 'skip'; reason: 'current'; name: string; object: ListedSourceObject; existing: ListedSinkObject }
  /** In S3 with no GCS object: backfill leaves it alone (verify reports it). */
  | { action: 'extra'; name: string; existing: ListedSinkObject };

/**
 * Decides from the two listings alone, without a HEAD per object.
 * ListObjectsV2 returns no user metadata, so `x-amz-meta-gcs-generation`
 * is not available here; instead:
 *
 * - no S3 object → copy (missing);
 * - sizes differ → copy (stale-size);
 * - S3 LastModified earlier than the generation's `timeCreated` → the S3
 *   copy predates this generation, so it holds an older one → copy (stale-time);
 * - otherwise → skip as current.
 *
 * Blind spot: an S3 object of the same size written *after* the generation
 * was created but holding other bytes (an older generation copied late, or
 * a write by another tool) passes as current. `gcs2s3 verify` catches it: it
 * HEADs and compares generation and CRC32C. Clock skew between GCS and S3
 * widens or narrows the same window.
 *
 * A wrong "stale" guess is harmless: the copy itself is `replicateObject`
 * with the generation pinned, which HEADs and skips when S3 already holds
 * that generation. It costs one HEAD, never a wrong write. This is also why
 * a run stopped half-way and started again does not recopy: what it wrote
 * has a LastModified after `timeCreated`.
 */
export function decide(entry: MergedEntry): PlanDecision {
  const { name, source, sink } = entry;
  if (source === undefined) return { action: 'extra', name, existing: sink! };
  if (sink === undefined) return { action: 'copy', reason: 'missing', name, object: source };
  if (sink.size !== source.size) return { action: 'copy', reason: 'stale-size', name, object: source, existing: sink };
  const created = source.timeCreated === undefined ? Number.NaN : Date.parse(source.timeCreated);
  // Without a usable timeCreated, only a HEAD could tell: let replicateObject do it.
  if (Number.isNaN(created) || sink.lastModified.getTime() < created) {
    return { action: 'copy', reason: 'stale-time', name, object: source, existing: sink };
  }
  return { action: 'skip', reason: 'current', name, object: source, existing: sink };
}
