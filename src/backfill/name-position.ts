/**
 * Object names as points on a line, for the range planner's interpolation.
 * The UTF-8 bytes after the prefix are read as a path down a tree whose
 * level d has one child per byte of that depth's alphabet, each child
 * spanning the same width; a name ending at depth d, and a byte above the
 * alphabet, each take one unit only (as mixed-radix digits they took a whole
 * digit each: every page crossing a column's end then looked up to 25 ×
 * sparser than its neighbours, and uniform names at 100 tasks came out
 * 5.79 × unbalanced, docs/scale.md).
 *
 * A depth's alphabet is the bytes seen there, plus whole runs (digits,
 * upper-case, lower-case letters) between the least and greatest byte of the
 * run seen there or deeper: a sample sees the last columns of names whole
 * (a page is 1,000 neighbours) but the middle ones only where probes landed,
 * and probes are named from the alphabet, so without the filling a column's
 * unseen digits could never be asked for, and the gap from `4` to `8` would
 * count as one value where three more hide. Ranks rather than raw bytes
 * keep `9`…`a` and other unused bytes from taking room, and a depth holding
 * only `2` (a year's first digit) from taking the room of a digit.
 * Byte order of names is (non-strict) numeric order of positions.
 */

/** Depths read: deep enough that names sharing long sub-prefixes (dates, tenants) still spread out. */
export const POSITION_DIGITS = 48;

const encoder = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });

/** Runs of bytes a sample may see only part of at one depth. */
const RUNS: ReadonlyArray<readonly [number, number]> = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** The bytes of one depth, and the width of the subtree under each. */
interface Column {
  bytes: number[];
  rank: Map<number, number>;
  /** Width of one byte's subtree (the whole of the next depth). */
  child: bigint;
}

/** The bytes of each run that shows at least two distinct bytes in `seen`. */
function variedRuns(seen: ReadonlySet<number>): number[] {
  return RUNS.flatMap(([first, last]) => {
    const here = [...seen].filter((b) => b >= first && b <= last);
    return here.length >= 2 ? here : [];
  });
}

/** The bytes seen at one depth, with the runs between their least and greatest filled in (see the file's comment). */
function filledAlphabet(seen: ReadonlySet<number>, deeper: ReadonlySet<number>): number[] {
  const bytes = new Set(seen);
  for (const [first, last] of RUNS) {
    const here = [...seen].filter((b) => b >= first && b <= last);
    if (here.length < 2) continue;
    const around = [...here, ...[...deeper].filter((b) => b >= first && b <= last)];
    for (let b = Math.min(...around); b <= Math.max(...around); b++) bytes.add(b);
  }
  return [...bytes].sort((a, b) => a - b);
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
    // The bytes of runs that vary at some deeper depth (a constant suffix such as `.log` says nothing about a run's extent).
    const deeper: Array<Set<number>> = [];
    for (let d = POSITION_DIGITS - 1; d >= 0; d--) deeper[d] = new Set([...variedRuns(sets[d]!), ...(deeper[d + 1] ?? [])]);
    // Width of a subtree at depth d: one unit for "ended", one per byte's subtree, one unit for "above".
    const columns: Column[] = [];
    let width = 1n;
    for (let d = POSITION_DIGITS - 1; d >= 0; d--) {
      const bytes = filledAlphabet(sets[d]!, deeper[d + 1] ?? new Set());
      // A depth that never varied may hide other bytes above it: "above" gets a whole byte's room there, so probes look.
      const above = width;
      columns[d] = { bytes, rank: new Map(bytes.map((b, i) => [b, i])), child: width };
      width = 1n + above + BigInt(bytes.length) * width;
    }
    this.#columns = columns;
    this.end = width;
  }

  /** This scale with more names seen (the alphabets only grow). */
  extend(names: Iterable<string>): NameScale {
    return new NameScale(this.#prefix, names, this.#seen);
  }

  /** The position of `name` (which starts with the prefix). A byte outside its depth's alphabet counts as the start of the next byte above it, and ends the name. */
  position(name: string): bigint {
    const bytes = encoder.encode(name.slice(this.#prefix.length));
    let value = 0n;
    for (const [d, column] of this.#columns.entries()) {
      if (d >= bytes.length) break;
      const b = bytes[d]!;
      const rank = column.rank.get(b);
      if (rank !== undefined) {
        value += 1n + BigInt(rank) * column.child;
        continue;
      }
      const above = column.bytes.findIndex((a) => a > b);
      value += 1n + BigInt(above < 0 ? column.bytes.length : above) * column.child;
      break;
    }
    return value;
  }

  /** A name at or below `position`, cut to valid UTF-8 (object names and list offsets must be UTF-8). */
  nameAt(position: bigint): string {
    const bytes: number[] = [];
    let rest = position;
    for (const column of this.#columns) {
      if (rest <= 0n) break;
      rest -= 1n;
      const rank = rest / column.child;
      // "Above every byte seen": the next byte up, so a probe reaches past what the sample knows.
      if (rank >= BigInt(column.bytes.length)) {
        bytes.push(Math.min(0xff, (column.bytes.at(-1) ?? 0x2f) + 1));
        break;
      }
      bytes.push(column.bytes[Number(rank)]!);
      rest -= rank * column.child;
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
