import type { SourceProber } from './ports.js';
import { nameAt, positionOf, POSITION_END } from './name-position.js';
import { compareUtf8 } from './utf8-order.js';

/**
 * Cuts a prefix into `count` contiguous name ranges holding similar numbers
 * of objects, from a small sample every task takes the same way: no
 * coordinator, no plan file. The sample is `probes` list calls (names only),
 * each one page from a start offset chosen where the estimate is least
 * certain, so skewed and date-partitioned keyspaces are sampled where their
 * objects are. Every task asks the same questions in the same order, so on
 * an unchanged listing every task computes the same boundaries; the ranges
 * then cover the prefix exactly once whatever the boundaries are.
 */
export interface PlanOptions {
  bucket: string;
  prefix: string;
  /** Number of ranges (CLOUD_RUN_TASK_COUNT). */
  count: number;
  prober: SourceProber;
  /** List calls the sample may make. Default 64. */
  probes?: number;
}

export interface RangePlan {
  /** count − 1 sorted names: task i lists [boundaries[i−1], boundaries[i]) (see rangeOfTask). */
  boundaries: string[];
  /** List calls the plan cost. */
  listCalls: number;
  /** Objects the sample estimates under the prefix. */
  estimatedObjects: number;
  /** The sample read the whole prefix: the counts are exact. */
  exact: boolean;
}

/** 64 calls: about 6 % of the list calls of one task's share at 1,000 pages a task, and a few seconds. */
export const DEFAULT_PROBES = 64;

/** A stretch of positions [lo, hi): known (every name in it listed) or a gap (estimated). */
interface Segment {
  lo: bigint;
  hi: bigint;
  /** The names in it, when known. */
  names?: string[];
  /** A gap no probe can split further (no valid name inside it). */
  stuck?: boolean;
}

export async function planRanges(options: PlanOptions, signal: AbortSignal): Promise<RangePlan> {
  const { bucket, prefix, count, prober } = options;
  if (count <= 1) return { boundaries: [], listCalls: 0, estimatedObjects: 0, exact: false };
  const budget = Math.max(1, options.probes ?? DEFAULT_PROBES);
  let segments: Segment[] = [{ lo: 0n, hi: POSITION_END }];
  let listCalls = 0;
  let offset: string | undefined;
  let at = 0n;
  for (;;) {
    const page = await prober.probe(bucket, prefix, offset, signal);
    listCalls++;
    segments = learn(segments, at, page.names, page.truncated, prefix);
    if (listCalls >= budget) break;
    const next = widestGap(segments, prefix);
    if (next === undefined) break;
    ({ offset, at } = next);
  }
  const estimates = segments.map((s, i) => (s.names !== undefined ? s.names.length : estimateGap(segments, i)));
  const total = estimates.reduce((a, b) => a + b, 0);
  const exact = segments.every((s) => s.names !== undefined);
  return { boundaries: cut(segments, estimates, total, count, prefix), listCalls, estimatedObjects: Math.round(total), exact };
}

/** Splits the gap holding `at` with what a page from `at` showed. */
function learn(segments: Segment[], at: bigint, names: string[], truncated: boolean, prefix: string): Segment[] {
  const i = segments.findIndex((s) => s.names === undefined && s.lo <= at && at < s.hi);
  if (i < 0) return segments;
  const gap = segments[i]!;
  const inside = names.filter((n) => positionOf(n, prefix) < gap.hi);
  // The page reached past the gap (or the end of the listing): the rest of the gap is known whole.
  const whole = !truncated || inside.length < names.length;
  const end = whole ? gap.hi : positionOf(names.at(-1)!, prefix) + 1n;
  const parts: Segment[] = [];
  if (gap.lo < at) parts.push({ lo: gap.lo, hi: at });
  parts.push({ lo: at, hi: end, names: inside });
  if (end < gap.hi) parts.push({ lo: end, hi: gap.hi });
  return [...segments.slice(0, i), ...parts, ...segments.slice(i + 1)];
}

/** Objects per position in the nearest known, non-empty stretches on each side of segment i. */
function neighbourDensities(segments: Segment[], i: number): number[] {
  const density = (s: Segment): number => s.names!.length / Number(s.hi - s.lo);
  const found: number[] = [];
  for (const step of [-1, 1]) {
    for (let j = i + step; j >= 0 && j < segments.length; j += step) {
      const s = segments[j]!;
      if (s.names !== undefined && s.names.length > 0) {
        found.push(density(s));
        break;
      }
    }
  }
  return found;
}

/** A gap's objects, estimated from the density of its neighbours (their mean). */
function estimateGap(segments: Segment[], i: number): number {
  const d = neighbourDensities(segments, i);
  if (d.length === 0) return 0;
  return (Number(segments[i]!.hi - segments[i]!.lo) * d.reduce((a, b) => a + b, 0)) / d.length;
}

/**
 * The next probe: the middle of the gap that may hold the most objects (by
 * its denser neighbour, so a dense cluster's edges get explored). Undefined
 * when no gap is left to split.
 */
function widestGap(segments: Segment[], prefix: string): { offset: string; at: bigint } | undefined {
  for (;;) {
    let best = -1;
    let bestScore = -1;
    segments.forEach((s, i) => {
      if (s.names !== undefined || s.stuck === true) return;
      const d = neighbourDensities(segments, i);
      const score = Number(s.hi - s.lo) * (d.length === 0 ? 1 : Math.max(...d));
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    if (best < 0) return undefined;
    const gap = segments[best]!;
    const offset = nameAt((gap.lo + gap.hi) / 2n, prefix);
    const at = positionOf(offset, prefix);
    if (gap.lo <= at && at < gap.hi) return { offset, at };
    gap.stuck = true;
  }
}

/** The count − 1 boundaries at equal shares of the estimated total, in ascending order. */
function cut(segments: Segment[], estimates: number[], total: number, count: number, prefix: string): string[] {
  const boundaries: string[] = [];
  let acc = 0;
  let k = 1;
  for (const [i, s] of segments.entries()) {
    const size = estimates[i]!;
    while (k < count && acc + size >= (k * total) / count && size > 0) {
      const within = (k * total) / count - acc;
      let name: string;
      if (s.names !== undefined) name = s.names[Math.min(s.names.length - 1, Math.floor(within))]!;
      else name = nameAt(s.lo + (BigInt(Math.floor((within / size) * 1e9)) * (s.hi - s.lo)) / 1_000_000_000n, prefix);
      boundaries.push(name);
      k++;
    }
    acc += size;
  }
  while (boundaries.length < count - 1) boundaries.push(boundaries.at(-1) ?? prefix);
  // Interpolated names may fall a little below a known one: keep the cuts in order.
  for (let j = 1; j < boundaries.length; j++) if (compareUtf8(boundaries[j]!, boundaries[j - 1]!) < 0) boundaries[j] = boundaries[j - 1]!;
  return boundaries;
}
