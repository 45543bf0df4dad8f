import type { SourceProber } from './ports.js';
import { NameScale } from './name-position.js';
import { compareUtf8 } from './utf8-order.js';

/**
 * Cuts a prefix into contiguous name ranges holding similar numbers of
 * objects, from a sample: taken once by task 0 and shared through a plan
 * file (`shared`, PLAN_BUCKET), or, without one, taken by every task the
 * same way (no coordinator). The sample is up to `probes` list calls (names
 * only), each one page from a start offset chosen where the most objects
 * may hide, so skewed and date-partitioned keyspaces are sampled where
 * their objects are. Every task asks the same questions in the same order,
 * so on an unchanged listing every task computes the same boundaries; the
 * ranges then cover the prefix exactly once whatever the boundaries are.
 *
 * The prefix is cut into `piecesPerTask × count` pieces, and each task takes
 * pieces from both ends of the order (see piecesOfTask): an estimate that
 * drifts along the keyspace (daily volume growing over years, which a
 * sample of pages cannot see) then evens out within each task.
 */
export interface PlanOptions {
  bucket: string;
  prefix: string;
  /** Number of tasks (CLOUD_RUN_TASK_COUNT). */
  count: number;
  prober: SourceProber;
  /** List calls the sample may make. Default: adaptive (see probeBudget). */
  probes?: number;
  /** Ranges per task. Default PIECES_PER_TASK (SHARED_PIECES_PER_TASK when shared). */
  piecesPerTask?: number;
  /**
   * The plan is computed once, by one task, and read by all (PLAN_BUCKET):
   * the sample is paid once, so it is sized from the whole prefix's GCS
   * pages (see sharedProbeBudget) rather than one task's share, and its
   * probes go out in parallel batches. Default false: every task samples alike.
   */
  shared?: boolean;
}

export interface RangePlan {
  /** piecesPerTask × count − 1 sorted names: piece j is [boundaries[j−1], boundaries[j]) (see rangeOfTask). */
  boundaries: string[];
  piecesPerTask: number;
  /** List calls the plan cost. */
  listCalls: number;
  /** Objects the sample estimates under the prefix. */
  estimatedObjects: number;
  /** The sample read the whole prefix: the counts are exact. */
  exact: boolean;
}

/**
 * Two pieces per task, taken from mirrored ends of the order, cancel a
 * linear drift of the estimate; each piece costs a task about one partial
 * page per side (measured: docs/scale.md).
 */
export const PIECES_PER_TASK = 2;
/** Fewer probes than this cannot find a skewed keyspace's dense part. */
export const MIN_PROBES = 32;
/** More buys little balance (docs/scale.md), and costs every task seconds before its first copy. */
export const MAX_PROBES = 160;
/** The sample's share of a task's own GCS list calls (half as much of its GCS and S3 calls together). */
const PLAN_SHARE = 0.15;

/** Ranges per task when the plan is shared (docs/scale.md). */
export const SHARED_PIECES_PER_TASK = 2;
/** A shared sample's share of the whole prefix's GCS list calls. */
export const SHARED_PLAN_SHARE = 0.05;
/**
 * Probes a shared sample takes at least, however few objects it estimates:
 * finding a dense sub-prefix's edges takes about this many whatever the
 * number of tasks (skewed at 10 tasks: 1.48 × the mean with 160 or 240, docs/scale.md).
 */
export const SHARED_MIN_PROBES = 240;
/**
 * Probes per piece a shared sample takes at most: a sample's estimate of a
 * date-partitioned prefix runs orders of magnitude high, and must not buy
 * thousands of pages; 4 per piece keeps the sample within 4 % of all list
 * calls at 100 tasks over 10 million names (docs/scale.md).
 */
export const SHARED_MAX_PROBES_PER_PIECE = 4;
/** A shared sample's batches: 1/64 of the probes so far go out at once (larger batches steer worse: skewed at 100 tasks 1.44 × the mean with 1/64, 1.66 with 1/32; at 10 tasks 2.98 with 1/8). */
const BATCH_DIVISOR = 64;

/**
 * Probes worth spending once for every task: SHARED_PLAN_SHARE of the
 * estimated GCS pages of the whole prefix, at most
 * SHARED_MAX_PROBES_PER_PIECE per piece, at least SHARED_MIN_PROBES.
 */
export function sharedProbeBudget(estimatedObjects: number, pageSize: number, pieces: number): number {
  const share = Math.ceil((SHARED_PLAN_SHARE * estimatedObjects) / Math.max(1, pageSize));
  return Math.max(SHARED_MIN_PROBES, Math.min(SHARED_MAX_PROBES_PER_PIECE * pieces, share));
}

/**
 * Probes worth spending, from what the sample estimates so far: 15 % of one
 * task's share of the GCS list calls, within 32–160. Every task estimates
 * alike, so every task stops at the same probe.
 */
export function probeBudget(estimatedObjects: number, pageSize: number, count: number): number {
  const share = Math.ceil((PLAN_SHARE * estimatedObjects) / Math.max(1, pageSize) / count);
  return Math.min(MAX_PROBES, Math.max(MIN_PROBES, share));
}

/** A stretch of names [lo, hi) (undefined: the prefix's start or end): known (every name in it listed) or a gap (estimated). */
interface Segment {
  lo?: string;
  hi?: string;
  /** The names in it, when known. */
  names?: string[];
  /** A gap no probe can split further (no valid name inside it). */
  stuck?: boolean;
}

/** The sample so far, and the scale its names define. */
interface Sample {
  segments: Segment[];
  scale: NameScale;
  prefix: string;
}

export async function planRanges(options: PlanOptions, signal: AbortSignal): Promise<RangePlan> {
  const { bucket, prefix, count, prober } = options;
  const shared = options.shared === true;
  const piecesPerTask = options.piecesPerTask ?? (shared ? SHARED_PIECES_PER_TASK : PIECES_PER_TASK);
  if (count <= 1) return { boundaries: [], piecesPerTask: 1, listCalls: 0, estimatedObjects: 0, exact: false };
  let sample: Sample = { segments: [{}], scale: new NameScale(prefix, []), prefix };
  let listCalls = 0;
  let pageSize = 1;
  let offsets: Array<string | undefined> = [undefined];
  for (;;) {
    // One batch of probes in parallel, learnt in the order asked (the same plan whatever order they answer in).
    const pages = await Promise.all(offsets.map((offset) => prober.probe(bucket, prefix, offset, signal)));
    for (const [j, page] of pages.entries()) {
      listCalls++;
      if (page.truncated) pageSize = Math.max(pageSize, page.names.length);
      sample = learn(sample, offsets[j], page.names, page.truncated);
    }
    const estimated = sum(estimate(sample));
    const budget = options.probes ?? (shared ? sharedProbeBudget(estimated, pageSize, piecesPerTask * count) : probeBudget(estimated, pageSize, count));
    if (listCalls >= Math.max(1, budget)) break;
    // Batches grow with what is known (1/64 of the probes so far), so the first probes still steer the next.
    const batch = shared ? Math.min(budget - listCalls, Math.max(1, Math.floor(listCalls / BATCH_DIVISOR))) : 1;
    offsets = nextProbes(sample, batch);
    if (offsets.length === 0) break;
  }
  const estimates = estimate(sample);
  const total = sum(estimates);

  const exact = sample.segments.every((s) => s.names !== undefined);
  return { boundaries: cut(sample, estimates, total, piecesPerTask * count), piecesPerTask, listCalls, estimatedObjects: Math.round(total), exact };
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const below = (name: string, bound: string | undefined): boolean => bound === undefined || compareUtf8(name, bound) < 0;
const atOrAbove = (name: string, bound: string | undefined): boolean => bound === undefined || compareUtf8(name, bound) >= 0;

/** Splits the gap holding `offset` with what a page from it showed, and extends the scale with the names learnt. */
function learn(sample: Sample, offset: string | undefined, names: string[], truncated: boolean): Sample {
  const { segments, prefix } = sample;
  const i = segments.findIndex((s) => s.names === undefined && (offset === undefined ? s.lo === undefined : atOrAbove(offset, s.lo) && below(offset, s.hi)));
  if (i < 0) return sample;
  const gap = segments[i]!;
  const inside = names.filter((n) => below(n, gap.hi));
  // The page reached past the gap (or the end of the listing): the rest of the gap is known whole.
  const whole = !truncated || inside.length < names.length;
  const end = whole ? gap.hi : `${names.at(-1)!}\u0000`;
  const parts: Segment[] = [];
  if (offset !== undefined && gap.lo !== offset) parts.push({ lo: gap.lo, hi: offset });
  parts.push({ lo: offset ?? gap.lo, hi: end, names: inside });
  if (!whole) parts.push({ lo: end, hi: gap.hi });
  return { segments: [...segments.slice(0, i), ...parts, ...segments.slice(i + 1)], prefix, scale: sample.scale.extend(names) };
}

function bounds(sample: Sample, s: Segment): [bigint, bigint] {
  return [s.lo === undefined ? 0n : sample.scale.position(s.lo), s.hi === undefined ? sample.scale.end : sample.scale.position(s.hi)];
}

function width(sample: Sample, s: Segment): number {
  const [lo, hi] = bounds(sample, s);
  return Number(hi > lo ? hi - lo : 0n);
}

/**
 * Objects per position of a known stretch, over the span its names cover
 * (the empty run before its first name says nothing about the density of
 * the names around it).
 */
function density(sample: Sample, s: Segment): number {
  const names = s.names!;
  if (names.length < 2) return names.length / Math.max(1, width(sample, s));
  const span = sample.scale.position(names.at(-1)!) - sample.scale.position(names[0]!);
  return (names.length - 1) / Math.max(1, Number(span));
}

/** Densities of the nearest known, non-empty stretches on each side of segment i. */
function neighbourDensities(sample: Sample, i: number): number[] {
  const found: number[] = [];
  for (const step of [-1, 1]) {
    for (let j = i + step; j >= 0 && j < sample.segments.length; j += step) {
      const s = sample.segments[j]!;
      if (s.names !== undefined && s.names.length > 0) {
        found.push(density(sample, s));
        break;
      }
    }
  }
  return found;
}

/**
 * Objects per segment: exact where known, else its width times the
 * geometric mean of its neighbours' densities (densities of neighbouring
 * pages differ by orders of magnitude across a dense sub-prefix's edge;
 * the arithmetic mean would let the denser one decide alone).
 */
function estimate(sample: Sample): number[] {
  return sample.segments.map((s, i) => {
    if (s.names !== undefined) return s.names.length;
    const d = neighbourDensities(sample, i);
    return d.length === 0 ? 0 : width(sample, s) * Math.exp(sum(d.map(Math.log)) / d.length);
  });
}

/**
 * The next `batch` probes: the middles of the gaps that may hold the most
 * objects (by their denser neighbour, so a dense cluster's edges get
 * explored), one per gap. Empty when no gap is left to split.
 */
function nextProbes(sample: Sample, batch: number): string[] {
  const scored: Array<[number, number]> = [];
  sample.segments.forEach((s, i) => {
    if (s.names !== undefined || s.stuck === true) return;
    const d = neighbourDensities(sample, i);
    scored.push([i, width(sample, s) * (d.length === 0 ? 1 : Math.max(...d))]);
  });
  scored.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const offsets: string[] = [];
  for (const [i] of scored) {
    if (offsets.length >= batch) break;
    const offset = probeInside(sample, sample.segments[i]!);
    if (offset === undefined) sample.segments[i]!.stuck = true;
    else offsets.push(offset);
  }
  return offsets;
}

/** The middle of a gap, or nearer its top when the middle's name rounds down out of it; undefined when no valid name lies inside. */
function probeInside(sample: Sample, gap: Segment): string | undefined {
  const [lo, hi] = bounds(sample, gap);
  for (const at of [(lo + hi) / 2n, (lo + 3n * hi) / 4n, hi - (hi - lo) / 16n, hi - 1n]) {
    const offset = sample.scale.nameAt(at);
    if (atOrAbove(offset, gap.lo) && below(offset, gap.hi) && offset !== gap.lo) return offset;
  }
  return undefined;
}

/** The pieces − 1 boundaries at equal shares of the estimated total, in ascending order. */
function cut(sample: Sample, estimates: number[], total: number, pieces: number): string[] {
  const boundaries: string[] = [];
  let acc = 0;
  let k = 1;
  for (const [i, s] of sample.segments.entries()) {
    const size = estimates[i]!;
    while (k < pieces && size > 0 && acc + size >= (k * total) / pieces) {
      const within = (k * total) / pieces - acc;
      let name: string;
      if (s.names !== undefined) name = s.names[Math.min(s.names.length - 1, Math.floor(within))]!;
      else {
        const [lo, hi] = bounds(sample, s);
        name = sample.scale.nameAt(lo + (BigInt(Math.floor((within / size) * 1e9)) * (hi - lo)) / 1_000_000_000n);
      }
      boundaries.push(name);
      k++;
    }
    acc += size;
  }
  while (boundaries.length < pieces - 1) boundaries.push(boundaries.at(-1) ?? sample.prefix);
  // Interpolated names may fall a little below a known one: keep the cuts in order.
  for (let j = 1; j < boundaries.length; j++) if (compareUtf8(boundaries[j]!, boundaries[j - 1]!) < 0) boundaries[j] = boundaries[j - 1]!;
  return boundaries;
}
