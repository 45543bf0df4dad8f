import { describe, expect, it } from 'vitest';
import { PartBufferPool } from '../../../src/sink/part-buffer-pool.js';

const settled = async <T>(p: Promise<T>): Promise<'pending' | T> => Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

describe('PartBufferPool', () => {
  it('allocates up to max buffers of its size, then makes callers wait', async () => {
    const pool = new PartBufferPool(1024, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a.length).toBe(1024);
    expect(a).not.toBe(b);
    const third = pool.acquire();
    expect(await settled(third)).toBe('pending');
    expect(pool.stats).toEqual({ inUse: 2, peakInUse: 2, allocated: 2 });
    pool.release(a);
    expect(await third).toBe(a);
    expect(pool.stats).toEqual({ inUse: 2, peakInUse: 2, allocated: 2 });
  });

  it('reuses released buffers instead of allocating', async () => {
    const pool = new PartBufferPool(64, 4);
    const a = await pool.acquire();
    pool.release(a);
    expect(await pool.acquire()).toBe(a);
    expect(pool.stats.allocated).toBe(1);
  });

  it('serves waiters first come, first served', async () => {
    const pool = new PartBufferPool(8, 1);
    const held = await pool.acquire();
    const order: string[] = [];
    const first = pool.acquire().then((b) => (order.push('first'), b));
    const second = pool.acquire().then((b) => (order.push('second'), b));
    pool.release(held);
    pool.release(await first);
    await second;
    expect(order).toEqual(['first', 'second']);
  });

  it('an aborted wait rejects with the reason and gives up its place', async () => {
    const pool = new PartBufferPool(8, 1);
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    pool.release(held);
    expect(await next).toBe(held);
    await expect(pool.acquire(AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('refuses a buffer that is not its own, and nonsense sizes', () => {
    const pool = new PartBufferPool(8, 1);
    expect(() => pool.release(Buffer.alloc(4))).toThrow(/not a buffer of this pool/);
    expect(() => new PartBufferPool(0, 1)).toThrow(RangeError);
    expect(() => new PartBufferPool(8, 0)).toThrow(RangeError);
  });
});
