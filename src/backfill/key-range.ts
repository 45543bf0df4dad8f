import { compareUtf8 } from './utf8-order.js';

/**
 * A contiguous range of object names in UTF-8 byte order: `start` inclusive,
 * `end` exclusive (GCS's own startOffset/endOffset semantics). Undefined
 * bounds are open, so `{}` is the whole prefix.
 */
export interface KeyRange {
  start?: string;
  end?: string;
}

/** The whole keyspace. */
export const ALL_NAMES: KeyRange = {};

export function inRange(name: string, range: KeyRange): boolean {
  if (range.start !== undefined && compareUtf8(name, range.start) < 0) return false;
  return range.end === undefined || compareUtf8(name, range.end) < 0;
}

/** At or past the range's end: a sorted listing can stop here. */
export function pastEnd(name: string, range: KeyRange): boolean {
  return range.end !== undefined && compareUtf8(name, range.end) >= 0;
}

/**
 * The pieces cut at `boundaries` (sorted names): piece i is
 * [boundaries[i−1], boundaries[i]), the first and last open-ended.
 * Adjacent ranges share one bound, so their union is every name, each in one range.
 */
export function rangeOfTask(boundaries: readonly string[], index: number): KeyRange {
  return {
    ...(index === 0 ? {} : { start: boundaries[index - 1] }),
    ...(index >= boundaries.length ? {} : { end: boundaries[index] }),
  };
}

/**
 * The task that lists piece `piece` of `pieces` cut for `count` tasks: the
 * pieces are dealt in rows of `count`, every other row in reverse (0, 1, …,
 * count − 1, count − 1, …, 1, 0, 0, 1, …), so each task holds pieces from
 * mirrored places of the order and a drift of the estimate along the
 * keyspace evens out within each task.
 */
export function ownerOfPiece(piece: number, count: number): number {
  const row = Math.floor(piece / count);
  const column = piece % count;
  return row % 2 === 0 ? column : count - 1 - column;
}

/**
 * The ranges task `index` of `count` lists, when the prefix is cut into
 * boundaries.length + 1 pieces (see ownerOfPiece): ascending, adjacent
 * pieces of the same task joined, empty pieces (equal bounds) left out.
 * Every name is in exactly one piece, so in exactly one task's ranges.
 */
export function rangesOfTask(boundaries: readonly string[], count: number, index: number): KeyRange[] {
  const ranges: KeyRange[] = [];
  let joinable = false;
  for (let piece = 0; piece <= boundaries.length; piece++) {
    const mine = ownerOfPiece(piece, count) === index;
    const range = rangeOfTask(boundaries, piece);
    if (mine && range.start !== undefined && range.end !== undefined && compareUtf8(range.start, range.end) >= 0) continue;
    if (mine && joinable) {
      const last = ranges.pop()!;
      ranges.push({ ...(last.start === undefined ? {} : { start: last.start }), ...(range.end === undefined ? {} : { end: range.end }) });
    } else if (mine) ranges.push(range);
    joinable = mine;
  }
  return ranges;
}

/** S3 keys are at most 1,024 bytes of UTF-8. */
export const S3_MAX_KEY_BYTES = 1024;

/**
 * A StartAfter for listing S3 keys ≥ `key` (StartAfter is exclusive): the
 * greatest valid key below `key`, i.e. `key` with its last character lowered
 * by one and padded with the greatest characters up to S3's key length limit. No key of at most 1,024 bytes lies strictly between it and
 * `key`. A key ending in U+0000 has its plain prefix as predecessor.
 * Undefined for the empty key (list from the start).
 */
export function s3StartAfter(key: string): string | undefined {
  if (key === '') return undefined;
  const chars = Array.from(key);
  const last = chars.pop()!.codePointAt(0)!;
  if (last === 0) return chars.join('');
  // Below U+E000 comes U+D7FF: surrogates are not characters.
  const lowered = last === 0xe000 ? 0xd7ff : last - 1;
  let out = chars.join('') + String.fromCodePoint(lowered);
  let bytes = Buffer.byteLength(out, 'utf8');
  while (bytes + 4 <= S3_MAX_KEY_BYTES) {
    out += '\u{10FFFF}';
    bytes += 4;
  }
  // The remaining 1–3 bytes: the greatest character of that length, so no longer key fits in between.
  const tail = S3_MAX_KEY_BYTES - bytes;
  if (tail >= 3) out += '\uFFFF';
  else if (tail === 2) out += '\u07FF';
  else if (tail === 1) out += '\u007F';
  return out;
}
