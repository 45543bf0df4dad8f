/**
 * Object names as points on a line, for the range planner's interpolation:
 * the UTF-8 bytes after the prefix, each read as its rank among the bytes
 * the sample has seen (an alphabet), as digits of a fixed-length number.
 * Ranks rather than raw bytes keep a keyspace of hex digits or dates from
 * looking mostly empty: only bytes that occur take up room on the line.
 * Byte order of names is (non-strict) numeric order of positions.
 */

/** Digits per position: deep enough that names sharing long sub-prefixes (dates, tenants) still spread out. */
export const POSITION_DIGITS = 48;

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

export class NameScale {
  readonly #prefix: string;
  /** Sorted bytes seen; digit d (1…n) stands for alphabet[d − 1], 0 for "name ended", n + 1 for "above every byte seen". */
  readonly #alphabet: number[];
  readonly #rank = new Map<number, number>();
  readonly #base: bigint;
  /** One past the greatest position. */
  readonly end: bigint;

  constructor(prefix: string, names: Iterable<string>) {
    this.#prefix = prefix;
    const seen = new Set<number>();
    for (const name of names) for (const b of encoder.encode(name.slice(prefix.length))) seen.add(b);
    this.#alphabet = [...seen].sort((a, b) => a - b);
    this.#alphabet.forEach((b, i) => this.#rank.set(b, i + 1));
    this.#base = BigInt(this.#alphabet.length + 2);
    this.end = this.#base ** BigInt(POSITION_DIGITS);
  }

  /** The position of `name` (which starts with the prefix). A byte never seen counts as the next seen byte above it, and ends the name. */
  position(name: string): bigint {
    const bytes = encoder.encode(name.slice(this.#prefix.length));
    let value = 0n;
    let ended = false;
    for (let i = 0; i < POSITION_DIGITS; i++) {
      let digit = 0;
      if (!ended && i < bytes.length) {
        const b = bytes[i]!;
        digit = this.#rank.get(b) ?? 0;
        if (digit === 0) {
          const above = this.#alphabet.findIndex((a) => a > b);
          digit = above < 0 ? this.#alphabet.length + 1 : above + 1;
          ended = true;
        }
      }
      value = value * this.#base + BigInt(digit);
    }
    return value;
  }

  /** A name at or below `position`, cut to valid UTF-8 (object names and list offsets must be UTF-8). */
  nameAt(position: bigint): string {
    const digits: number[] = [];
    let rest = position;
    for (let i = 0; i < POSITION_DIGITS; i++) {
      digits.unshift(Number(rest % this.#base));
      rest /= this.#base;
    }
    const bytes: number[] = [];
    for (const d of digits) {
      if (d === 0) break;
      // "Above every byte seen": the greatest byte seen keeps the name just below, not far below.
      bytes.push(this.#alphabet[Math.min(d, this.#alphabet.length) - 1]!);
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
