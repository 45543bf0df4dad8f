import { isAbortError, toReplicationError } from '../errors.js';
import type { ObjectEvent, Outcome } from '../model.js';
import type { CopyHints } from '../replicate/replicate-object.js';
import type { MergedEntry } from './merge.js';
import { decide, type PlanDecision } from './plan.js';
import type { SinkLister, SourceLister } from './ports.js';
import type { Shard } from './shard.js';
import { createTally, recordOutcome, type BackfillTally } from './tally.js';
import { walkListings } from './walk.js';

/**
 * A listed resource older than this is not used as a copy hint: headers or
 * custom metadata changed after the listing would otherwise be copied stale
 * (a METADATA_UPDATE handled before the copy finds nothing in S3 to refresh).
 * Copies start soon after their page is listed (the listing is read only as
 * fast as copies start), so this only bites behind long copies.
 */
export const HINT_MAX_AGE_MS = 30_000;

/** The copy of one object: `replicateObject` with the command's deps, and what the listings told. Must not throw. */
export type CopyObject = (event: Extract<ObjectEvent, { kind: 'finalize' }>, signal: AbortSignal, hints?: CopyHints) => Promise<Outcome>;

export interface BackfillOptions {
  bucket: string;
  /** GCS object-name prefix ('' for the whole bucket). */
  prefix: string;
  /** S3_KEY_PREFIX: S3 keys are `keyPrefix + name`. */
  keyPrefix: string;
  sourceLister: SourceLister;
  sinkLister: SinkLister;
  copy: CopyObject;
  /** Objects copied at once (≥ 1). */
  concurrency: number;
  /** This task's share of the names. Default: all of them. */
  shard?: Shard;
  /** Names the filters leave out (see walkListings). Default: none. */
  isExcluded?: (name: string) => boolean;
  /** Decide and report, copy nothing. */
  dryRun?: boolean;
  /** Every decision in this shard, as it is made (dry-run listing, debug logs). */
  onDecision?: (decision: PlanDecision) => void;
  /** Every finished copy. */
  onOutcome?: (result: { event: Extract<ObjectEvent, { kind: 'finalize' }>; outcome: Outcome; durationMs: number }) => void;
  /** Counts to fill in (shared with a progress display). Default: a fresh tally. */
  tally?: BackfillTally;
  /** Failures kept for the report; the rest are only counted. Default 10,000. */
  maxFailuresKept?: number;
}

export interface BackfillResult {
  tally: BackfillTally;
  /** Both listings were read to the end and every planned copy ran. */
  complete: boolean;
  /** Stopped by the signal (SIGTERM/SIGINT). */
  interrupted: boolean;
  /** Why the run stopped early (a listing failed), if it did. */
  error?: Error;
}

/**
 * Walks the merged GCS and S3 listings under a prefix (walkListings) and
 * copies what S3 lacks or holds stale (see `decide`), at most `concurrency`
 * at a time. Only counts are kept, so memory is flat in the object count. A
 * listing failure stops taking work; the copies already running finish (each
 * either completes or aborts its own upload), and the result carries the error.
 */
export async function runBackfill(options: BackfillOptions, signal: AbortSignal): Promise<BackfillResult> {
  const { bucket, keyPrefix, copy, onDecision, onOutcome } = options;
  const tally = options.tally ?? createTally();
  const maxFailuresKept = options.maxFailuresKept ?? 10_000;

  const copyOne = async (decision: Extract<PlanDecision, { action: 'copy' }>): Promise<void> => {
    const { object } = decision;
    const event = {
      kind: 'finalize' as const,
      ref: { bucket, name: object.name, generation: object.generation },
      timeCreated: object.timeCreated,
    };
    const started = performance.now();
    let outcome: Outcome;
    try {
      const fresh = object.listedAtMs !== undefined && Date.now() - object.listedAtMs < HINT_MAX_AGE_MS;
      outcome = await copy(event, signal, { source: fresh ? object.resource : undefined, absentInSink: decision.reason === 'missing' });
    } catch (err) {
      const error = toReplicationError(err);
      outcome = { status: 'failed', key: keyPrefix + object.name, retryable: error.retryable, error, generation: object.generation };
    }
    // Cut short by shutdown: not a failure of the object; a rerun copies it.
    if (outcome.status === 'failed' && signal.aborted && isAbortError(outcome.error)) tally.abandoned++;
    else recordOutcome(tally, `gs://${bucket}/${object.name}`, outcome, object.size, maxFailuresKept);
    onOutcome?.({ event, outcome, durationMs: performance.now() - started });
  };

  const visit = (entry: MergedEntry): (() => Promise<void>) | undefined => {
    const decision = decide(entry);
    onDecision?.(decision);
    if (decision.action === 'extra') {
      tally.extraInS3++;
      return undefined;
    }
    if (decision.action === 'skip') {
      tally.current++;
      return undefined;
    }
    tally.planned.objects++;
    tally.planned.bytes += decision.object.size;
    tally.planned.byReason[decision.reason]++;
    return options.dryRun ? undefined : () => copyOne(decision);
  };

  const walk = await walkListings({ ...options, counts: tally }, visit, signal);
  tally.listingDone = walk.listingDone;
  return { tally, complete: walk.listingDone && !walk.interrupted && walk.error === undefined, interrupted: walk.interrupted, error: walk.error };
}
