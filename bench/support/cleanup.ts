/**
 * What a bench must undo (its GCS and S3 prefixes, its subscription) even when
 * the run is interrupted: each bench registers its cleanup while it runs, and
 * the signal handler runs whatever is still registered before exiting.
 */
import { stopAllChildren } from './processes.js';

const pending = new Set<() => Promise<void>>();

/** Registers `cleanup`; call the returned function to run it (once) and unregister it. */
export function deferCleanup(cleanup: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = (): Promise<void> => {
    pending.delete(run);
    done ??= cleanup();
    return done;
  };
  pending.add(run);
  return run;
}

/** Runs every registered cleanup, for at most `timeoutMs`. */
export async function runPendingCleanups(timeoutMs: number): Promise<void> {
  const all = Promise.allSettled([...pending].map((run) => run()));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}

/**
 * On SIGINT/SIGTERM: end every child process (with its group), run the
 * pending cleanups (30 s at most), exit 130.
 */
export function exitOnSignal(log: (line: string) => void): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping every child process and removing this run's objects`);
    stopAllChildren();
    void runPendingCleanups(30_000).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
