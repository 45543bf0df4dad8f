import { describe, expect, it } from 'vitest';
import { paginate, type Page } from '../../../src/backfill/paginate.js';
import { decodeUrlKey } from '../../../src/sink/s3-lister.js';

function pages(count: number, size: number): { fetch: (token: string | undefined) => Promise<Page<number>>; calls: Array<string | undefined> } {
  const calls: Array<string | undefined> = [];
  return {
    calls,
    fetch: async (token) => {
      calls.push(token);
      const n = token === undefined ? 0 : Number(token);
      const items = Array.from({ length: size }, (_, i) => n * size + i);
      return { items, next: n + 1 < count ? String(n + 1) : undefined };
    },
  };
}

describe('paginate', () => {
  it('yields every item of every page in order, following the tokens', async () => {
    const { fetch, calls } = pages(3, 4);
    const items: number[] = [];
    for await (const item of paginate(fetch, new AbortController().signal)) items.push(item);
    expect(items).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(calls).toEqual([undefined, '1', '2']);
  });

  it('fetches at most one page ahead of the consumer', async () => {
    const { fetch, calls } = pages(100, 10);
    const it = paginate(fetch, new AbortController().signal)[Symbol.asyncIterator]();
    for (let i = 0; i < 15; i++) await it.next();
    expect(calls.length).toBeLessThanOrEqual(3);
    await it.return?.(undefined);
  });

  it('a page that fails after the consumer stopped is not an unhandled rejection', async () => {
    let first = true;
    const fetch = async (): Promise<Page<number>> => {
      if (first) {
        first = false;
        return { items: [1, 2], next: 'x' };
      }
      throw new Error('second page failed');
    };
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      for await (const item of paginate(fetch, new AbortController().signal)) {
        expect(item).toBe(1);
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    expect(rejections).toEqual([]);
  });

  it('a failing page surfaces to the consumer', async () => {
    const fetch = async (token: string | undefined): Promise<Page<number>> => {
      if (token === undefined) return { items: [1], next: 'x' };
      throw new Error('page 2 failed');
    };
    const seen: number[] = [];
    await expect(async () => {
      for await (const item of paginate(fetch, new AbortController().signal)) seen.push(item);
    }).rejects.toThrow('page 2 failed');
    expect(seen).toEqual([1]);
  });

  it('stops at an aborted signal', async () => {
    const controller = new AbortController();
    const { fetch } = pages(5, 2);
    const seen: number[] = [];
    await expect(async () => {
      for await (const item of paginate(fetch, controller.signal)) {
        seen.push(item);
        controller.abort();
      }
    }).rejects.toThrow();
    expect(seen).toEqual([0, 1]);
  });
});

describe('decodeUrlKey (ListObjectsV2 EncodingType=url)', () => {
  it.each([
    ['a/b', 'a/b'],
    ['b+c', 'b c'],
    ['b%2Bc', 'b+c'],
    ['p%2520q', 'p%20q'],
    ['tab%09x', 'tab\tx'],
    ['%C3%A9', 'é'],
    ['%F0%9F%98%80y', '\u{1F600}y'],
  ])('%s → %j', (encoded, key) => {
    expect(decodeUrlKey(encoded)).toBe(key);
  });
});
