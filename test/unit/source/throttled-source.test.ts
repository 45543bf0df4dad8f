import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { ByteRateLimiter } from '../../../src/source/byte-rate-limiter.js';
import { ThrottledSource } from '../../../src/source/throttled-source.js';
import { FakeSource } from '../../support/fakes.js';

const live = new AbortController().signal;

describe('ThrottledSource', () => {
  it('passes every byte through unchanged, counting them against the shared limit', async () => {
    const inner = new FakeSource();
    const a = inner.put('b', 'a', randomBytes(20_000));
    const c = inner.put('b', 'c', randomBytes(7_000));
    let now = 0;
    const limiter = new ByteRateLimiter({ bytesPerSecond: 10_000, now: () => now, sleep: async (ms) => void (now += ms) });
    const source = new ThrottledSource(inner, limiter);
    const [bytesA, bytesC] = await Promise.all([buffer(source.read(a, live)), buffer(source.read(c, live, 1000))]);
    expect(bytesA.equals(inner.objects.get('b/a')![0]!.bytes)).toBe(true);
    expect(bytesC.equals(inner.objects.get('b/c')![0]!.bytes.subarray(1000))).toBe(true);
    expect(limiter.passed).toBe(26_000);
    // Both reads shared one bucket: 26,000 bytes at 10,000 B/s took 2.6 simulated seconds.
    expect(now).toBeCloseTo(2600, 0);
  });

  it("an abort while a chunk waits for its turn fails the read with the signal's reason", async () => {
    const inner = new FakeSource();
    const o = inner.put('b', 'o', randomBytes(50_000));
    const limiter = new ByteRateLimiter({ bytesPerSecond: 1 });
    const stop = new AbortController();
    const read = buffer(new ThrottledSource(inner, limiter).read(o, stop.signal));
    stop.abort(new Error('deadline'));
    await expect(read).rejects.toThrow('deadline');
  });

  it('stat is the inner source’s', async () => {
    const inner = new FakeSource();
    const o = inner.put('b', 'o', Buffer.from('x'));
    expect(await new ThrottledSource(inner, new ByteRateLimiter({ bytesPerSecond: 1 })).stat({ bucket: 'b', name: 'o' }, live)).toEqual(o);
  });
});
