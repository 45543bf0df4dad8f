import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { startTicker } from '../../../src/backfill/progress.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { SourceObject } from '../../../src/model.js';
import type { Source } from '../../../src/replicate/ports.js';
import { countingSource, formatCopyProgress, type CopyProgress } from '../../../src/main/copy-progress.js';

const object: SourceObject = { bucket: 'b', name: 'big.bin', generation: '1', metageneration: '1', size: 12, metadata: {} };

function fakeSource(chunks: string[], error?: Error): Source & { destroyed: () => boolean } {
  let stream: Readable | undefined;
  return {
    stat: async () => object,
    read() {
      stream = new Readable({
        read() {
          const next = chunks.shift();
          if (next !== undefined) this.push(next);
          else if (error !== undefined) this.destroy(error);
          else this.push(null);
        },
      });
      return stream;
    },
    destroyed: () => stream?.destroyed === true,
  };
}

describe('countingSource', () => {
  it('passes the bytes through unchanged and counts them against the object size', async () => {
    const progress: CopyProgress = { doneBytes: 0 };
    const body = countingSource(fakeSource(['abcd', 'efgh', 'ijkl']), progress).read(object, new AbortController().signal);
    expect(await text(body)).toBe('abcdefghijkl');
    expect(progress).toMatchObject({ totalBytes: 12, doneBytes: 12 });
  });

  it('the GCS stream\'s error is the error the reader sees', async () => {
    const boom = new Error('connection reset');
    const body = countingSource(fakeSource(['abcd'], boom), { doneBytes: 0 }).read(object, new AbortController().signal);
    await expect(text(body)).rejects.toBe(boom);
  });

  it('destroying what read returned releases the GCS read', async () => {
    const source = fakeSource(['abcd', 'efgh']);
    const body = countingSource(source, { doneBytes: 0 }).read(object, new AbortController().signal);
    body.destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed()).toBe(true);
  });
});

describe('formatCopyProgress', () => {
  it.each<[CopyProgress, number, string]>([
    [{ doneBytes: 0 }, 0, 'copy gs://b/big.bin · checking S3 and GCS…'],
    [{ totalBytes: 2048 * 1048576, doneBytes: 512 * 1048576, startedAt: 0 }, 8000, 'copy gs://b/big.bin · 512.0/2048.0 MiB · 25% · 64.0 MiB/s · ETA 24s'],
    [{ totalBytes: 100, doneBytes: 100, startedAt: 0 }, 1000, 'copy gs://b/big.bin · 0.0/0.0 MiB · 100% · 0.0 MiB/s'],
    [{ totalBytes: 0, doneBytes: 0, startedAt: 0 }, 1000, 'copy gs://b/big.bin · 0.0/0.0 MiB · 100% · 0.0 MiB/s'],
  ])('%o at %i ms', (progress, now, line) => {
    expect(formatCopyProgress('gs://b/big.bin', progress, now)).toBe(line);
  });
});

describe('a lazy ticker (copy on a terminal)', () => {
  it('writes nothing when stopped before its first tick', () => {
    const written: string[] = [];
    const display = startTicker({ tty: true, lazy: true, write: (t) => void written.push(t), logger: silentLogger, intervalMs: 60_000, render: () => ({ line: 'x', fields: {} }) });
    display.stop();
    expect(written).toEqual([]);
  });

  it('once drawn, redraws in place and ends the line when stopped', async () => {
    const written: string[] = [];
    const display = startTicker({ tty: true, lazy: true, write: (t) => void written.push(t), logger: silentLogger, intervalMs: 5, render: () => ({ line: 'copy …', fields: {} }) });
    await new Promise((r) => setTimeout(r, 30));
    display.stop();
    expect(written.slice(0, -1).every((t) => t === '\r\x1b[2Kcopy …')).toBe(true);
    expect(written.at(-1)).toBe('\n');
  });
});
