import type { Outcome } from '../model.js';
import type { CopyReason } from './plan.js';
import type { ListingCounts } from './walk.js';

/** One object backfill could not copy. */
export interface FailureRecord {
  object: string;
  generation?: string;
  key: string;
  retryable: boolean;
  error: string;
  code?: string;
}

/**
 * Running counts of one backfill, shared by the runner (which writes) and the
 * progress display (which reads). Counts only: the failure list is capped, so
 * memory does not grow with the number of objects.
 */
export interface BackfillTally extends ListingCounts {
  startedAt: number;
  /** Both listings read to the end. Until then the totals below still grow. */
  listingDone: boolean;
  /** Copies decided on from the listings, in this shard. */
  planned: { objects: number; bytes: number; byReason: Record<CopyReason, number> };
  /** Skipped by the plan: S3 is current by size and time. */
  current: number;
  /** S3 keys with no GCS object (left alone). */
  extraInS3: number;
  /** Planned copies that have finished, whatever their outcome, and their listed bytes. */
  done: { objects: number; bytes: number };
  copied: { objects: number; bytes: number };
  /** Outcomes of `replicateObject` that were skips (already-current, superseded…), by reason. */
  skippedByReason: Record<string, number>;
  failed: number;
  /** Copies cut short by shutdown (SIGTERM): neither done nor failed; a rerun does them. */
  abandoned: number;
  failures: FailureRecord[];
  /** Failures counted but not kept in `failures` (over the cap). */
  failuresOmitted: number;
}

export function createTally(now = Date.now()): BackfillTally {
  return {
    startedAt: now,
    listedGcs: 0,
    listedS3: 0,
    listingDone: false,
    otherShards: 0,
    excluded: 0,
    planned: { objects: 0, bytes: 0, byReason: { missing: 0, 'stale-size': 0, 'stale-time': 0 } },
    current: 0,
    extraInS3: 0,
    done: { objects: 0, bytes: 0 },
    copied: { objects: 0, bytes: 0 },
    skippedByReason: {},
    failed: 0,
    abandoned: 0,
    failures: [],
    failuresOmitted: 0,
  };
}

/** Counts one finished copy. `listedBytes` is the size the plan expected. */
export function recordOutcome(tally: BackfillTally, object: string, outcome: Outcome, listedBytes: number, maxFailuresKept: number): void {
  tally.done.objects++;
  tally.done.bytes += listedBytes;
  switch (outcome.status) {
    case 'copied':
      tally.copied.objects++;
      tally.copied.bytes += outcome.bytes;
      return;
    case 'skipped':
      tally.skippedByReason[outcome.reason] = (tally.skippedByReason[outcome.reason] ?? 0) + 1;
      return;
    case 'failed': {
      tally.failed++;
      if (tally.failures.length >= maxFailuresKept) {
        tally.failuresOmitted++;
        return;
      }
      const code = (outcome.error as { code?: unknown }).code;
      tally.failures.push({
        object,
        generation: outcome.generation,
        key: outcome.key,
        retryable: outcome.retryable,
        error: outcome.error.message,
        ...(typeof code === 'string' ? { code } : {}),
      });
      return;
    }
    default:
      // copy events only ever end copied, skipped or failed
      return;
  }
}
