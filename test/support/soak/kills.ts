import { sleep, type Prng } from './prng.js';
import type { PullWorker } from './workers.js';

export interface KillTally {
  SIGKILL: number;
  SIGTERM: number;
  restarts: number;
  /** Worker exits nobody asked for (counted by the workers, restarted at once). */
  crashes: number;
}

export interface KillScheduleOptions {
  /** Mean pause between two kills, ms. */
  meanGapMs: number;
  /** Share of stops by SIGTERM (graceful); the rest are SIGKILL. */
  sigtermShare: number;
}

/** Kills a random worker now and then, and restarts it a moment later, until `signal` aborts. */
export async function runKillSchedule(workers: PullWorker[], rng: Prng, opts: KillScheduleOptions, tally: KillTally, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(rng.between(0.5, 1.5) * opts.meanGapMs, signal);
    if (signal.aborted) break;
    const worker = rng.pick(workers);
    const how: 'SIGTERM' | 'SIGKILL' = rng.chance(opts.sigtermShare) ? 'SIGTERM' : 'SIGKILL';
    const downMs = rng.between(300, 6000);
    if (!worker.running) continue;
    await worker.stop(how);
    tally[how]++;
    await sleep(downMs, signal);
    worker.start();
    tally.restarts++;
  }
}
