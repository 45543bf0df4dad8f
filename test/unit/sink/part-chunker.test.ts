import { PassThrough, Readable } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { crc32cBase64 } from '../../../src/replicate/verify-stream.js';
import type { PartBuffer, PartSupply } from '../../../src/sink/part-buffer-pool.js';
import { PartChunker, type Part } from '../../../src/sink/part-chunker.js';

const live = new AbortController().signal;
const settled = async <T>(p: Promise<T>): Promise<'pending' | T> => Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);

/** Parts of `partBytes` in fresh buffers, counting those not given back. */
function supply(partBytes: number): PartSupply & { held: () => number } {
  let held = 0;
  return {
    partBytes,
    held: () => held,
    acquire: async (signal: AbortSignal): Promise<PartBuffer> => {
      signal.throwIfAborted();
      held++;
      let released = false;
      return { bytes: Buffer.alloc(partBytes), release: () => void (released || ((released = true), held--)) };
    },
  };
}

async function drain(chunker: PartChunker): Promise<Part[]> {
  const parts: Part[] = [];
  for (let part = await chunker.next(); part !== undefined; part = await chunker.next()) parts.push(part);
  return parts;
}

describe('PartChunker', () => {
  it.each([
    ['a body over several parts', ['abc', 'defgh', 'ij'], 4, ['abcd', 'efgh', 'ij']],
    ['an exact multiple of the part size', ['abcdefgh'], 4, ['abcd', 'efgh']],
    ['one chunk per byte', ['a', 'b', 'c', 'd', 'e'], 2, ['ab', 'cd', 'e']],
    ['one part', ['ab', 'c'], 3, ['abc']],
    ['an empty body: one empty part', [], 4, ['']],
  ])('%s', async (_label, chunks, partBytes, expected) => {
    const parts = supply(partBytes);
    const size = chunks.join('').length;
    const chunker = new PartChunker(Readable.from(chunks.map((c) => Buffer.from(c))), { parts, size, label: 'x', hashWhole: true, signal: live });
    const got = await drain(chunker);
    expect(got.map((p) => [p.number, p.data.toString()])).toEqual(expected.map((text, i) => [i + 1, text]));
    expect(chunker.crc32c).toBe(crc32cBase64(crc32c(Buffer.from(chunks.join('')))));
    for (const p of got) p.release();
    expect(parts.held()).toBe(0);
  });

  it('hands out the last part, even full, only once the body has ended', async () => {
    const body = new PassThrough();
    const chunker = new PartChunker(body, { parts: supply(4), size: 8, label: 'x', hashWhole: false, signal: live });
    body.write(Buffer.from('abcdefgh'));
    expect((await chunker.next())?.data.toString()).toBe('abcd');
    const last = chunker.next();
    expect(await settled(last)).toBe('pending');
    body.end();
    expect((await last)?.data.toString()).toBe('efgh');
    expect(await chunker.next()).toBeUndefined();
  });

  it.each([
    ['shorter', ['abcd', 'ef'], /body ended after 6 of 8 bytes/],
    ['longer', ['abcd', 'efghi'], /body is longer than the 8 bytes announced/],
  ])('a body %s than announced fails, and the part being filled is given back', async (_label, chunks, message) => {
    const parts = supply(4);
    const chunker = new PartChunker(Readable.from(chunks.map((c) => Buffer.from(c))), { parts, size: 8, label: 's3://b/k', hashWhole: false, signal: live });
    const first = await chunker.next();
    await expect(chunker.next()).rejects.toThrow(message);
    first?.release();
    expect(parts.held()).toBe(0);
  });

  it('close stops a read waiting on a slow body and gives back the part being filled', async () => {
    const body = new PassThrough();
    const parts = supply(4);
    const chunker = new PartChunker(body, { parts, size: 8, label: 'x', hashWhole: false, signal: live });
    body.write(Buffer.from('ab'));
    const waiting = chunker.next();
    expect(await settled(waiting)).toBe('pending');
    await Promise.all([chunker.close(), expect(waiting).rejects.toThrow()]);
    expect(body.destroyed).toBe(true);
    expect(parts.held()).toBe(0);
  });
});
