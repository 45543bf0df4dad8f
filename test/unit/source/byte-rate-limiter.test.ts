import { describe, expect, it } from 'vitest';
import { ByteRateLimiter } from '../../../src/source/byte-rate-limiter.js';

/** A simulated clock: `sleep` records the wait asked for and moves the clock by it. */
function simulated() {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    advance: (ms: number) => (now += ms),
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
}

const live = new AbortController().signal;

describe('ByteRateLimiter', () => {
  it('lets bytes through at the rate: 1,000 B at 1,000 B/s from an empty bucket waits one second', async () => {
    const clock = simulated();
    const limiter = new ByteRateLimiter({ bytesPerSecond: 1000, now: clock.now, sleep: clock.sleep });
    await limiter.take(1000, live);
    expect(clock.waits).toEqual([1000]);
    expect(limiter.passed).toBe(1000);
  });

  it('over any run, bytes passed ≤ burst + rate × elapsed, and a saturated stream runs at the rate', async () => {
    const clock = simulated();
    const limiter = new ByteRateLimiter({ bytesPerSecond: 4096, burstBytes: 1024, now: clock.now, sleep: clock.sleep });
    for (let i = 0; i < 200; i++) {
      await limiter.take(64 + (i % 7) * 100, live);
      expect(limiter.passed).toBeLessThanOrEqual(1024 + 4096 * (clock.now() / 1000));
    }
    const rate = limiter.passed / (clock.now() / 1000);
    expect(rate).toBeGreaterThan(4096 * 0.99);
    expect(rate).toBeLessThanOrEqual(4096);
  });

  it('a quiet spell refills at most the burst', async () => {
    const clock = simulated();
    const limiter = new ByteRateLimiter({ bytesPerSecond: 1000, burstBytes: 250, now: clock.now, sleep: clock.sleep });
    clock.advance(60_000);
    await limiter.take(250, live);
    expect(clock.waits).toEqual([]);
    await limiter.take(500, live);
    expect(clock.waits).toEqual([500]);
  });

  it('callers are served in call order: each waits for what was reserved before it', async () => {
    const clock = simulated();
    const asked: number[] = [];
    // The clock stands still while both wait: the waits asked for show the order.
    const limiter = new ByteRateLimiter({ bytesPerSecond: 1000, burstBytes: 1, now: clock.now, sleep: async (ms) => void asked.push(ms) });
    await Promise.all([limiter.take(1000, live), limiter.take(1000, live), limiter.take(500, live)]);
    expect(asked).toEqual([1000, 2000, 2500]);
  });

  it('an abort while waiting rejects with its reason and gives the reservation back', async () => {
    const clock = simulated();
    const pending: { reject: (e: unknown) => void }[] = [];
    const limiter = new ByteRateLimiter({
      bytesPerSecond: 1000,
      burstBytes: 1,
      now: clock.now,
      sleep: (ms, signal) =>
        ms > 5000 || pending.length > 0
          ? new Promise((_, reject) => {
              pending.push({ reject });
              signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            })
          : clock.sleep(ms),
    });
    const stop = new AbortController();
    const waiting = limiter.take(10_000, stop.signal);
    stop.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    expect(limiter.passed).toBe(0);
    pending.length = 0;
    // The next caller waits for its own bytes only, not the aborted reservation.
    await limiter.take(1000, live);
    expect(clock.waits.at(-1)).toBe(1000);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new ByteRateLimiter({ bytesPerSecond: 0 })).toThrow(RangeError);
    expect(() => new ByteRateLimiter({ bytesPerSecond: Number.NaN })).toThrow(RangeError);
  });
});
