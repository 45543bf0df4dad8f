import type { ListedSinkObject, ListedSourceObject } from './ports.js';
import { compareUtf8 } from './utf8-order.js';

/** One object name, with what each side lists under it. At least one side is present. */
export interface MergedEntry {
  /** The GCS object name (for S3-only entries: the key without the key prefix). */
  name: string;
  source?: ListedSourceObject;
  sink?: ListedSinkObject;
}

/** A listing broke the order the merge relies on: decisions made from it would be wrong. */
export class ListingOrderError extends Error {
  override readonly name = 'ListingOrderError';
}

/**
 * Merges a GCS listing and an S3 listing, both sorted in UTF-8 byte order,
 * into one sorted stream of entries, pairing `name` with `keyPrefix + name`.
 * The key prefix is the same for every key, so stripping it keeps the order.
 *
 * Streaming: holds one item of each listing at a time. Reads each listing
 * only as fast as the consumer takes entries, and closes both when the
 * consumer stops early. Throws ListingOrderError if a listing is not
 * strictly ascending, or lists a key outside the prefix: silently
 * mis-pairing would turn every object into "missing" and "extra".
 */
export async function* mergeListings(
  source: AsyncIterable<ListedSourceObject>,
  sink: AsyncIterable<ListedSinkObject>,
  keyPrefix: string,
): AsyncGenerator<MergedEntry> {
  const sourceIt = source[Symbol.asyncIterator]();
  const sinkIt = sink[Symbol.asyncIterator]();
  try {
    let lastSource: string | undefined;
    let lastSink: string | undefined;
    const nextSource = async (): Promise<ListedSourceObject | undefined> => {
      const r = await sourceIt.next();
      if (r.done) return undefined;
      if (lastSource !== undefined && compareUtf8(lastSource, r.value.name) >= 0) {
        throw new ListingOrderError(`GCS listing is not in ascending UTF-8 order: "${r.value.name}" came after "${lastSource}"`);
      }
      lastSource = r.value.name;
      return r.value;
    };
    const nextSink = async (): Promise<{ name: string; object: ListedSinkObject } | undefined> => {
      const r = await sinkIt.next();
      if (r.done) return undefined;
      const { key } = r.value;
      if (!key.startsWith(keyPrefix)) throw new ListingOrderError(`S3 listing returned "${key}", outside the key prefix "${keyPrefix}"`);
      const name = key.slice(keyPrefix.length);
      if (lastSink !== undefined && compareUtf8(lastSink, name) >= 0) {
        throw new ListingOrderError(`S3 listing is not in ascending UTF-8 order: "${key}" came after "${keyPrefix}${lastSink}"`);
      }
      lastSink = name;
      return { name, object: r.value };
    };

    let s = await nextSource();
    let k = await nextSink();
    while (s !== undefined || k !== undefined) {
      const order = s === undefined ? 1 : k === undefined ? -1 : compareUtf8(s.name, k.name);
      if (order < 0) {
        yield { name: s!.name, source: s };
        s = await nextSource();
      } else if (order > 0) {
        yield { name: k!.name, sink: k!.object };
        k = await nextSink();
      } else {
        yield { name: s!.name, source: s, sink: k!.object };
        s = await nextSource();
        k = await nextSink();
      }
    }
  } finally {
    // Stops the listers' page fetches when the consumer leaves early (abort, error).
    await Promise.allSettled([sourceIt.return?.(), sinkIt.return?.()]);
  }
}
