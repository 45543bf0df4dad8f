import { setTimeout as sleepFor } from 'node:timers/promises';

export interface ByteRateLimiterOptions {
  /** The limit, bytes per second (MAX_BYTES_PER_SECOND or `backfill --bwlimit`). */
  bytesPerSecond: number;
  /**
   * Bytes that may pass at once after a quiet spell. Default a quarter second
   * of the rate: enough to keep a stream's chunks flowing, small enough that a
   * run's average stays at the limit (a one-second bucket would let a 10 s run
   * move 10% more than the limit).
   */
  burstBytes?: number;
  /** Clock in ms (tests); default `performance.now`. */
  now?: () => number;
  /** Waits `ms` or rejects when `signal` aborts (tests); default timers/promises' setTimeout. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A token bucket shared by every copy of the process: `take(n)` resolves once
 * n more bytes may pass. Each call reserves its bytes at once, in call order,
 * and waits until the bucket has refilled past what was reserved before it;
 * so callers are served first come, first served (no stream starves behind a
 * busier one), and the bytes let through in any interval of T seconds are at
 * most `burstBytes + bytesPerSecond × T`. A caller whose signal aborts while
 * waiting gives its reservation back.
 *
 * Hand-written (docs/decisions/bandwidth-limiter.md): the maintained npm
 * package `limiter` has no AbortSignal, which a shutdown needs, and its
 * README asks callers to queue themselves to avoid starvation.
 */
export class ByteRateLimiter {
  readonly bytesPerSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Bytes that may pass now; negative: reserved ahead of the refill. */
  #tokens = 0;
  #refilledAt: number;
  #passed = 0;

  constructor(options: ByteRateLimiterOptions) {
    if (!(options.bytesPerSecond > 0) || !Number.isFinite(options.bytesPerSecond)) throw new RangeError(`bytesPerSecond must be a positive number, got ${options.bytesPerSecond}`);
    this.bytesPerSecond = options.bytesPerSecond;
    this.#burst = Math.max(1, options.burstBytes ?? Math.ceil(options.bytesPerSecond / 4));
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms, signal) => sleepFor(ms, undefined, { signal }));
    this.#refilledAt = this.#now();
  }

  /** Bytes let through so far (progress shows the current rate from it). */
  get passed(): number {
    return this.#passed;
  }

  /** Resolves when `bytes` more may pass; rejects with the signal's reason if it aborts first. */
  async take(bytes: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#refill();
    this.#tokens -= bytes;
    const waitMs = this.#tokens < 0 ? (-this.#tokens / this.bytesPerSecond) * 1000 : 0;
    if (waitMs > 0) {
      try {
        await this.#sleep(waitMs, signal);
      } catch (err) {
        this.#tokens += bytes;
        throw signal.aborted ? signal.reason : err;
      }
    }
    this.#passed += bytes;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.bytesPerSecond);
    this.#refilledAt = now;
  }
}
