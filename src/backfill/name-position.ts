/**
 * Object names as points on a line, for the range planner's interpolation:
 * the UTF-8 bytes after the prefix as digits of a mixed-radix number, each
 * byte read as its rank among the bytes the sample has seen *at that depth*
 * (a column's alphabet). Ranks rather than raw bytes keep a keyspace of hex
 * digits or dates from looking mostly empty, and a column's own alphabet
 * keeps a column of three years from taking the room of a column of sixteen
 * hex digits: only bytes that occur where they occur take up room on the
 * line, so equal widths hold similar numbers of names in more keyspaces.
 * Byte order of names is (non-strict) numeric order of positions.
 */

/** Digits per position: deep enough that names sharing long sub-prefixes (dates, tenants) still spread out. */
export const POSITION_DIGITS = 48;

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** The bytes seen at one depth: digit d (1…n) stands for bytes[d − 1], 0 for "name ended", n + 1 for "above every byte seen". */
interface Column {
  bytes: number[];
  rank: Map<number, number>;
  base: bigint;
}

export class NameScale {
  readonly #prefix: string;
  readonly #seen: ReadonlyArray<ReadonlySet<number>>;
  readonly #columns: Column[];
  /** One past the greatest position. */
  readonly end: bigint;

  constructor(prefix: string, names: Iterable<string>, seen: ReadonlyArray<ReadonlySet<number>> = []) {
    this.#prefix = prefix;
    const sets = Array.from({ length: POSITION_DIGITS }, (_, i) => new Set(seen[i]));
    for (const name of names) encoder.encode(name.slice(prefix.length)).slice(0, POSITION_DIGITS).forEach((b, i) => sets[i]!.add(b));
    this.#seen = sets;
    this.#columns = sets.map((set) => {
      const bytes = [...set].sort((a, b) => a - b);
      return { bytes, rank: new Map(bytes.map((b, i) => [b, i + 1])), base: BigInt(bytes.length + 2) };
    });
    this.end = this.#columns.reduce((product, c) => product * c.base, 1n);
  }

  /** This scale with more names seen (the alphabets only grow). */
  extend(names: Iterable<string>): NameScale {
    return new NameScale(this.#prefix, names, this.#seen);
  }

  /** The position of `name` (which starts with the prefix). A byte never seen at its depth counts as the next seen byte above it, and ends the name. */
  position(name: string): bigint {
    const bytes = encoder.encode(name.slice(this.#prefix.length));
    let value = 0n;
    let ended = false;
    for (const [i, column] of this.#columns.entries()) {
      let digit = 0;
      if (!ended && i < bytes.length) {
        const b = bytes[i]!;
        digit = column.rank.get(b) ?? 0;
        if (digit === 0) {
          const above = column.bytes.findIndex((a) => a > b);
          digit = above < 0 ? column.bytes.length + 1 : above + 1;
          ended = true;
        }
      }
      value = value * column.base + BigInt(digit);
    }
    return value;
  }

  /** A name at or below `position`, cut to valid UTF-8 (object names and list offsets must be UTF-8). */
  nameAt(position: bigint): string {
    const digits: number[] = [];
    let rest = position;
    for (let i = POSITION_DIGITS - 1; i >= 0; i--) {
      const base = this.#columns[i]!.base;
      digits.unshift(Number(rest % base));
      rest /= base;
    }
    const bytes: number[] = [];
    for (const [i, d] of digits.entries()) {
      const column = this.#columns[i]!;
      if (d === 0) break;
      // "Above every byte seen": the next byte up, so a probe reaches past what the sample knows.
      if (d > column.bytes.length) {
        bytes.push(Math.min(0xff, (column.bytes.at(-1) ?? 0x2f) + 1));
        break;
      }
      bytes.push(column.bytes[d - 1]!);
    }
    // Digits of multi-byte characters may combine into invalid sequences: keep the longest valid head.
    for (let length = bytes.length; ; length--) {
      try {
        return this.#prefix + strict.decode(Uint8Array.from(bytes.slice(0, length)));
      } catch {
        // one byte shorter
      }
    }
  }
}
