import { inRange } from '../../../src/backfill/key-range.js';
import type { ListedSinkObject, ListedSourceObject, SinkLister, SourceLister, SourceProber } from '../../../src/backfill/ports.js';
import { compareUtf8 } from '../../../src/backfill/utf8-order.js';

/** An async iterable over `items`, one at a time, like a paginated listing. */
export async function* iterate<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}

export function gcs(name: string, extra: Partial<ListedSourceObject> = {}): ListedSourceObject {
  return { name, generation: '1700000000000001', size: 10, crc32c: 'AAAAAA==', timeCreated: '2024-01-01T00:00:00.000Z', ...extra };
}

export function s3(key: string, extra: Partial<ListedSinkObject> = {}): ListedSinkObject {
  return { key, size: 10, etag: '"e"', lastModified: new Date('2024-01-02T00:00:00.000Z'), ...extra };
}

/** In-memory listers over fixed sets, sorted as GCS and S3 sort (UTF-8 byte order), filtered by prefix. */
export function fakeListers(source: ListedSourceObject[], sink: ListedSinkObject[]): { sourceLister: SourceLister; sinkLister: SinkLister; reads: { source: number; sink: number } } {
  const reads = { source: 0, sink: 0 };
  const sortedSource = [...source].sort((a, b) => compareUtf8(a.name, b.name));
  const sortedSink = [...sink].sort((a, b) => compareUtf8(a.key, b.key));
  return {
    reads,
    sourceLister: {
      async *list(_bucket, prefix, _signal, range = {}) {
        for (const o of sortedSource) {
          if (!o.name.startsWith(prefix) || !inRange(o.name, range)) continue;
          reads.source++;
          yield o;
        }
      },
    },
    sinkLister: {
      async *list(prefix, _signal, range = {}) {
        for (const o of sortedSink) {
          if (!o.key.startsWith(prefix) || !inRange(o.key, range)) continue;
          reads.sink++;
          yield o;
        }
      },
    },
  };
}

/** A prober over fixed names: pages of `pageSize` from a start offset, as GCS lists. */
export function fakeProber(names: string[], pageSize = 1000): SourceProber & { calls: number } {
  const sorted = [...names].sort(compareUtf8);
  const prober = {
    calls: 0,
    async probe(_bucket: string, prefix: string, startOffset: string | undefined) {
      prober.calls++;
      const from = sorted.filter((n) => n.startsWith(prefix) && (startOffset === undefined || compareUtf8(n, startOffset) >= 0));
      return { names: from.slice(0, pageSize), truncated: from.length > pageSize };
    },
  };
  return prober;
}
