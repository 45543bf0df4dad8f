/**
 * Admission control for push requests: at most `limit` at once, and no queue.
 * A request that finds every slot taken is answered 429 at once, so Pub/Sub's
 * push flow control slows down instead of requests piling up in memory here
 * (each admitted copy may hold PART_QUEUE_SIZE × PART_SIZE of buffers).
 */
export class ConcurrencyGate {
  readonly limit: number;
  #inUse = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** A release function when a slot was free (call it exactly once; later calls do nothing), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.#inUse >= this.limit) return undefined;
    this.#inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
    };
  }
}
