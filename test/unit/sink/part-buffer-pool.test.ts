import { describe, expect, it } from 'vitest';
import { PartBufferPool } from '../../../src/sink/part-buffer-pool.js';
import { MIB } from '../../../src/sink/part-size.js';

const settled = async <T>(p: Promise<T>): Promise<'pending' | T> => Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
const live = new AbortController().signal;
/** An object large enough for pooled 5 MiB parts. */
const MULTIPART = 20 * MIB;

describe('PartBufferPool', () => {
  it.each([
    ['an empty object', 0, 0, 0],
    ['a small object: its own buffer, no slot', 1000, 1000, 0],
    ['up to 1 MiB: still its own buffer', MIB, MIB, 0],
    ['one part under the buffer size: a pooled buffer', MIB + 1, MIB + 1, 1],
    ['many parts: the buffer size', MULTIPART, 5 * MIB, 1],
    ['over 10,000 parts: grown to 6 MiB, two slots', 5 * MIB * 10_000 + 1, 6 * MIB, 2],
    ['grown past the whole pool: every slot, and no more', 5 * MIB * 10_000 * 4, 20 * MIB, 3],
  ])('%s', async (_label, objectSize, partBytes, slots) => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 3 });
    const parts = pool.partsFor(objectSize);
    expect(parts.partBytes).toBe(partBytes);
    const lease = await parts.acquire(live);
    expect(lease.bytes.length).toBeGreaterThanOrEqual(partBytes);
    expect(pool.stats.inUse).toBe(slots);
    lease.release();
    lease.release();
    expect(pool.stats.inUse).toBe(0);
  });

  it('allocates up to its number of buffers, then makes callers wait', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 2 });
    const parts = pool.partsFor(MULTIPART);
    const a = await parts.acquire(live);
    const b = await parts.acquire(live);
    expect(a.bytes.length).toBe(5 * MIB);
    expect(a.bytes === b.bytes).toBe(false);
    const third = parts.acquire(live);
    expect(await settled(third)).toBe('pending');
    expect(pool.stats).toEqual({ inUse: 2, peakInUse: 2, allocated: 2 });
    a.release();
    expect((await third).bytes).toBe(a.bytes);
    expect(pool.stats).toEqual({ inUse: 2, peakInUse: 2, allocated: 2 });
  });

  it('reuses released buffers instead of allocating', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 4 });
    const parts = pool.partsFor(MULTIPART);
    const a = await parts.acquire(live);
    a.release();
    expect((await parts.acquire(live)).bytes).toBe(a.bytes);
    expect(pool.stats.allocated).toBe(1);
  });

  it('serves waiters first come, first served, a grown part included', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 2 });
    const pooled = pool.partsFor(MULTIPART);
    const grown = pool.partsFor(5 * MIB * 10_000 + 1);
    const held = [await pooled.acquire(live), await pooled.acquire(live)];
    const order: string[] = [];
    const big = grown.acquire(live).then((lease) => (order.push('grown'), lease));
    const small = pooled.acquire(live).then((lease) => (order.push('pooled'), lease));
    held[0]!.release();
    // One slot free: the grown part needs two and is first in line, so nobody is served yet.
    expect(await settled(big)).toBe('pending');
    expect(await settled(small)).toBe('pending');
    held[1]!.release();
    const lease = await big;
    // Its two slots' cached buffers were dropped to make room for its own allocation.
    expect(pool.stats).toEqual({ inUse: 2, peakInUse: 2, allocated: 0 });
    lease.release();
    (await small).release();
    expect(order).toEqual(['grown', 'pooled']);
  });

  it('an aborted wait rejects with the reason and gives up its place', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 1 });
    const parts = pool.partsFor(MULTIPART);
    const held = await parts.acquire(live);
    const controller = new AbortController();
    const waiting = parts.acquire(controller.signal);
    const next = parts.acquire(live);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    held.release();
    expect((await next).bytes).toBe(held.bytes);
    await expect(parts.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
    await expect(pool.partsFor(10).acquire(AbortSignal.abort(new Error('small too')))).rejects.toThrow('small too');
  });

  it('an aborted grown wait lets a smaller one behind it through', async () => {
    const pool = new PartBufferPool({ bufferBytes: 5 * MIB, buffers: 2 });
    const held = await pool.partsFor(MULTIPART).acquire(live);
    const controller = new AbortController();
    const big = pool.partsFor(5 * MIB * 10_000 + 1).acquire(controller.signal);
    const small = pool.partsFor(MULTIPART).acquire(live);
    expect(await settled(small)).toBe('pending');
    controller.abort(new Error('gave up'));
    await expect(big).rejects.toThrow('gave up');
    expect((await small).bytes.length).toBe(5 * MIB);
    held.release();
  });

  it('a failed allocation gives its slot back and fails the part permanently, naming the size', async () => {
    let failures = 1;
    const pool = new PartBufferPool({
      bufferBytes: 5 * MIB,
      buffers: 1,
      allocate: (bytes) => {
        if (failures-- > 0) throw new RangeError('Array buffer allocation failed');
        return Buffer.allocUnsafeSlow(bytes);
      },
    });
    const parts = pool.partsFor(MULTIPART);
    const first = parts.acquire(live);
    await expect(first).rejects.toMatchObject({ name: 'PermanentError', code: 'PartBufferAllocationFailed', retryable: false });
    await expect(first).rejects.toThrow(/part buffer of 5242880 bytes/);
    // The slot is free again: the next part gets a buffer instead of waiting for ever.
    expect(pool.stats.inUse).toBe(0);
    const next = await settled(parts.acquire(live));
    expect(next).not.toBe('pending');
  });

  it('a waiter whose allocation fails is rejected, and the one behind it still served', async () => {
    let calls = 0;
    const pool = new PartBufferPool({
      bufferBytes: 5 * MIB,
      buffers: 1,
      allocate: (bytes) => {
        if (++calls === 2) throw new RangeError('Array buffer allocation failed');
        return Buffer.allocUnsafeSlow(bytes);
      },
    });
    // Grown parts (objects over 10,000 parts) are allocated each time, never taken from the cache.
    const parts = pool.partsFor(5 * MIB * 10_000 + 1);
    const held = await parts.acquire(live);
    const failing = parts.acquire(live);
    const after = parts.acquire(live);
    held.release();
    await expect(failing).rejects.toMatchObject({ code: 'PartBufferAllocationFailed' });
    expect((await after).bytes.length).toBe(6 * MIB);
    expect(pool.stats.inUse).toBe(1);
  });

  it('refuses nonsense sizes', () => {
    expect(() => new PartBufferPool({ bufferBytes: 0, buffers: 1 })).toThrow(RangeError);
    expect(() => new PartBufferPool({ bufferBytes: 8, buffers: 0 })).toThrow(RangeError);
    expect(() => new PartBufferPool({ bufferBytes: 1.5, buffers: 1 })).toThrow(RangeError);
  });
});
