import pLimit from 'p-limit';
import { mergeListings, type MergedEntry } from './merge.js';
import type { SinkLister, SourceLister } from './ports.js';
import { ALL_NAMES, inRange, type KeyRange } from './key-range.js';
import { WHOLE, type Shard } from './shard.js';

/** What the walk has seen so far; read by progress displays while it runs. */
export interface ListingCounts {
  /** Entries in each listing (all shards, filtered names included). */
  listedGcs: number;
  listedS3: number;
  /** GCS objects outside this task's ranges (a lister that ignored a range; normally 0: only the ranges are listed). */
  otherShards: number;
  /** GCS objects of this shard left out by the filters (INCLUDE_PREFIXES, EXCLUDE_PREFIXES, --include, --exclude). */
  excluded: number;
}

export function createListingCounts(): ListingCounts {
  return { listedGcs: 0, listedS3: 0, otherShards: 0, excluded: 0 };
}

export interface WalkOptions {
  bucket: string;
  /** GCS object-name prefix ('' for the whole bucket). */
  prefix: string;
  /** S3_KEY_PREFIX: S3 keys are `keyPrefix + name`. */
  keyPrefix: string;
  sourceLister: SourceLister;
  sinkLister: SinkLister;
  /** Tasks running at once (≥ 1). */
  concurrency: number;
  /** This task's share of the names: its `ranges` are all that is listed. Default: all of them. */
  shard?: Shard;
  /**
   * Names the filters leave out: skipped on both sides, so they are neither
   * copied, checked, nor reported missing or extra. Default: none.
   */
  isExcluded?: (name: string) => boolean;
  /** Counts to fill in (shared with a progress display). */
  counts: ListingCounts;
}

/** What to do with one entry of this shard: nothing more, or a task for the pool. Tasks must not reject. */
export type Visit = (entry: MergedEntry) => (() => Promise<void>) | undefined;

export interface WalkResult {
  /** Both listings were read to the end. */
  listingDone: boolean;
  /** Stopped by the signal (SIGTERM/SIGINT). */
  interrupted: boolean;
  /** Why the walk stopped early (a listing failed), if it did. */
  error?: Error;
}

/**
 * The loop backfill and verify share: walks the merged GCS and S3 listings
 * under a prefix (only this task's range of names), keeps the unfiltered names, and runs the task
 * `visit` returns for each, at most `concurrency` at a time.
 *
 * Memory is flat in the object count: the listings are read only as fast as
 * tasks start (at most `concurrency` running plus `concurrency` queued). A
 * listing failure or the signal stops taking work; the tasks already running
 * are waited for (each ends on its own, aborted by the signal if it fired),
 * so no upload or HEAD is left running when the caller reports.
 */
export async function walkListings(options: WalkOptions, visit: Visit, signal: AbortSignal): Promise<WalkResult> {
  const { concurrency } = options;
  const ranges = (options.shard ?? WHOLE).ranges ?? [ALL_NAMES];
  const limit = pLimit(concurrency);
  const running = new Set<Promise<void>>();
  let listingDone = false;
  let error: Error | undefined;
  const fail = (err: unknown): void => void (error ??= err instanceof Error ? err : new Error(String(err)));
  try {
    // One range after the other, each listed on both sides from its start.
    for (const range of ranges) {
      for await (const entry of listRange(options, range, signal)) {
        // Stop taking work; leaving the loop closes both listings.
        if (signal.aborted) break;
        const work = take(options, entry, range, visit);
        if (work === undefined) continue;
        // A task that breaks its contract still must not break the pool.
        const task: Promise<void> = limit(work)
          .catch(fail)
          .finally(() => running.delete(task));
        running.add(task);
        // Backpressure: read no further ahead than the workers need.
        while (limit.pendingCount >= concurrency) await Promise.race(running);
      }
      if (signal.aborted) break;
    }
    listingDone = !signal.aborted;
  } catch (err) {
    if (!signal.aborted) error = err instanceof Error ? err : new Error(String(err));
  } finally {
    await Promise.all(running);
  }
  return { listingDone, interrupted: signal.aborted, error };
}

/** The merged GCS and S3 listings of one range of names. */
function listRange(options: WalkOptions, range: KeyRange, signal: AbortSignal): AsyncIterable<MergedEntry> {
  const { bucket, prefix, keyPrefix } = options;
  // S3 keys are the names behind the key prefix, so the key range is the name range behind it too.
  const keyRange = { ...(range.start === undefined ? {} : { start: keyPrefix + range.start }), ...(range.end === undefined ? {} : { end: keyPrefix + range.end }) };
  return mergeListings(options.sourceLister.list(bucket, prefix, signal, range), options.sinkLister.list(keyPrefix + prefix, signal, keyRange), keyPrefix);
}

/** Counts one merged entry and returns the visit's work for it, if it is this task's and not filtered out. */
function take(options: WalkOptions, entry: MergedEntry, range: KeyRange, visit: Visit): (() => Promise<void>) | undefined {
  const { counts } = options;
  if (entry.source !== undefined) counts.listedGcs++;
  if (entry.sink !== undefined) counts.listedS3++;
  // Only the range is asked for; this keeps exactly-once even if a lister returned more.
  if (!inRange(entry.name, range)) {
    if (entry.source !== undefined) counts.otherShards++;
    return undefined;
  }
  if (options.isExcluded?.(entry.name) === true) {
    if (entry.source !== undefined) counts.excluded++;
    return undefined;
  }
  return visit(entry);
}
