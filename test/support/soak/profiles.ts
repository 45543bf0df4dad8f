import type { FaultScheduleOptions } from './faults.js';
import type { KillScheduleOptions } from './kills.js';
import type { WriterOptions } from './writer.js';

/** How hard each part of the soak pushes. */
export interface SoakProfile {
  writer: Omit<WriterOptions, 'prefix'>;
  faults: FaultScheduleOptions;
  kills: KillScheduleOptions;
  /** Mean pause between two batches of duplicated notifications, ms. */
  duplicateGapMs: number;
  /** The longest wait for the queue to drain after the chaos, ms. */
  drainMs: number;
}

/**
 * `long`: `npm run soak` (objects up to 200 MiB, one over 32 MiB per 150
 * writes at most, so the in-memory GCS emulator stays bounded on a small
 * machine). `short`: the seeded run inside `npm test` (objects up to 24 MiB,
 * faults and kills more often, so a couple of minutes see every kind).
 */
export const PROFILES: Record<'long' | 'short', SoakProfile> = {
  long: {
    writer: { names: 60, minGapMs: 200, maxGapMs: 1500, maxObjectMiB: 200, bigEveryOps: 150 },
    faults: { meanGapMs: 5000, minOnMs: 3000, maxOnMs: 15_000, maxConcurrent: 3 },
    kills: { meanGapMs: 45_000, sigtermShare: 0.15 },
    duplicateGapMs: 4000,
    drainMs: 12 * 60_000,
  },
  short: {
    writer: { names: 25, minGapMs: 150, maxGapMs: 1000, maxObjectMiB: 24, bigEveryOps: Number.POSITIVE_INFINITY },
    faults: { meanGapMs: 2500, minOnMs: 2000, maxOnMs: 8000, maxConcurrent: 3 },
    kills: { meanGapMs: 25_000, sigtermShare: 0.25 },
    duplicateGapMs: 3000,
    drainMs: 6 * 60_000,
  },
};
