import type { Logger } from '../log/logger.js';
import type { BackfillTally } from './tally.js';
import { MIB } from '../units.js';

/** What a progress line shows, derived from a tally at one instant. */
export interface ProgressFigures {
  elapsedSeconds: number;
  /** Still listing: the totals are lower bounds. */
  listing: boolean;
  listedGcs: number;
  doneObjects: number;
  totalObjects: number;
  doneBytes: number;
  totalBytes: number;
  copied: number;
  skipped: number;
  failed: number;
  objectsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds left; only once the totals are known and a rate exists. */
  etaSeconds?: number;
  /** The bandwidth limit in force (MAX_BYTES_PER_SECOND, --bwlimit), bytes per second. */
  limitBytesPerSecond?: number;
  /** Bytes per second read over the last few seconds, under a limit. */
  currentBytesPerSecond?: number;
}

export function progressFigures(tally: BackfillTally, now = Date.now()): ProgressFigures {
  const elapsedSeconds = Math.max((now - tally.startedAt) / 1000, 0.001);
  const objectsPerSecond = tally.done.objects / elapsedSeconds;
  const bytesPerSecond = tally.done.bytes / elapsedSeconds;
  const figures: ProgressFigures = {
    elapsedSeconds,
    listing: !tally.listingDone,
    listedGcs: tally.listedGcs,
    doneObjects: tally.done.objects,
    totalObjects: tally.planned.objects,
    doneBytes: tally.done.bytes,
    totalBytes: tally.planned.bytes,
    copied: tally.copied.objects,
    skipped: tally.current + Object.values(tally.skippedByReason).reduce((a, b) => a + b, 0),
    failed: tally.failed,
    objectsPerSecond,
    bytesPerSecond,
  };
  if (tally.listingDone && tally.done.objects > 0) {
    // The slower of the two estimates: many small objects are bound by
    // per-object round trips, a few large ones by bandwidth.
    const byObjects = (figures.totalObjects - figures.doneObjects) / objectsPerSecond;
    const byBytes = bytesPerSecond > 0 ? (figures.totalBytes - figures.doneBytes) / bytesPerSecond : 0;
    figures.etaSeconds = Math.max(byObjects, byBytes, 0);
  }
  return figures;
}

/** One terminal line, e.g. `copied 1,200/1,700 objects · 30.0/45.0 MiB · 52 obj/s 1.3 MiB/s · ETA 10s`. */
export function formatProgressLine(f: ProgressFigures): string {
  const objects = f.listing
    ? `${count(f.doneObjects)}/${count(f.totalObjects)}+ objects (listing: ${count(f.listedGcs)} seen)`
    : `${count(f.doneObjects)}/${count(f.totalObjects)} objects`;
  const bytes = `${formatMiB(f.doneBytes)}/${formatMiB(f.totalBytes)}${f.listing ? '+' : ''} MiB`;
  const rate = `${f.objectsPerSecond.toFixed(f.objectsPerSecond < 10 ? 1 : 0)} obj/s ${formatMiB(f.bytesPerSecond)} MiB/s`;
  const eta = f.etaSeconds === undefined ? '' : ` · ETA ${formatDuration(f.etaSeconds)}`;
  const tail = ` · ${count(f.skipped)} skipped${f.failed > 0 ? ` · ${count(f.failed)} failed` : ''}`;
  const limit = f.limitBytesPerSecond === undefined ? '' : ` · now ${formatMiB(f.currentBytesPerSecond ?? 0)} MiB/s (limit ${formatMiB(f.limitBytesPerSecond)})`;
  return `backfill ${objects} · ${bytes} · ${rate}${limit}${eta}${tail}`;
}

export interface ProgressDisplay {
  /** Draws once more and stops; ends the terminal line. */
  stop(): void;
}

export interface TickerOptions {
  /** stderr is a terminal: rewrite one line; otherwise log JSON progress lines. */
  tty: boolean;
  /** Writes to stderr (terminal line). */
  write: (text: string) => void;
  /** Where JSON progress lines go when not on a terminal. */
  logger: Logger;
  /** Default: 250 ms on a terminal, 10 s for logs. */
  intervalMs?: number;
  /** The line to show, and the fields of the JSON log line. */
  render: () => { line: string; fields: Record<string, unknown> };
  /** Show nothing at all unless the work outlasts the first interval (a quick copy stays quiet). Default false. */
  lazy?: boolean;
}

/**
 * Shows progress while a long command runs: a single rewritten line on a
 * terminal, or a JSON log line every ~10 s otherwise (Cloud Run Jobs).
 * The timer is unref'd: it never keeps the process alive.
 */
export function startTicker(options: TickerOptions): ProgressDisplay {
  const { tty, write, logger, render } = options;
  let drawn = false;
  const draw = (): void => {
    drawn = true;
    const { line, fields } = render();
    if (tty) write(`\r\x1b[2K${line}`);
    else logger.info(line, fields);
  };
  const timer = setInterval(draw, options.intervalMs ?? (tty ? 250 : 10_000));
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (tty && (drawn || options.lazy !== true)) {
        draw();
        write('\n');
      }
    },
  };
}

export interface ProgressOptions extends Omit<TickerOptions, 'render'> {
  tally: BackfillTally;
  /** The bandwidth limit in force: its rate and the bytes it has let through so far. */
  limit?: { bytesPerSecond: number; passed: () => number };
}

/** Backfill progress: objects and bytes done/total (totals grow until listing ends), rate (and the current one under a limit), ETA. */
export function startProgress(options: ProgressOptions): ProgressDisplay {
  const { tally, limit, ...ticker } = options;
  const meter = new RateMeter();
  // The baseline: the first line (10 s in, for logs) then has a rate to show.
  if (limit !== undefined) meter.sample(limit.passed());
  return startTicker({
    ...ticker,
    render: () => {
      const figures = progressFigures(tally);
      if (limit !== undefined) {
        figures.limitBytesPerSecond = limit.bytesPerSecond;
        figures.currentBytesPerSecond = meter.sample(limit.passed());
      }
      return { line: formatProgressLine(figures), fields: { progress: roundFigures(figures) } };
    },
  });
}

/** How far back the current rate looks. */
const RATE_WINDOW_MS = 5000;

/** The rate of a growing count over the last few seconds, from samples taken at each progress line. */
export class RateMeter {
  readonly #samples: { at: number; total: number }[] = [];
  readonly #windowMs: number;

  constructor(windowMs = RATE_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** Records `total` at `now` (ms) and returns the count per second since the oldest sample in the window (0 at first). */
  sample(total: number, now = Date.now()): number {
    this.#samples.push({ at: now, total });
    // Keep one sample at or before the window's start, so the window is always covered.
    while (this.#samples.length > 2 && this.#samples[1]!.at <= now - this.#windowMs) this.#samples.shift();
    const first = this.#samples[0]!;
    return now > first.at ? ((total - first.total) / (now - first.at)) * 1000 : 0;
  }
}

function roundFigures(f: ProgressFigures): Record<string, unknown> {
  return {
    ...f,
    elapsedSeconds: Math.round(f.elapsedSeconds),
    objectsPerSecond: Number(f.objectsPerSecond.toFixed(1)),
    bytesPerSecond: Math.round(f.bytesPerSecond),
    currentBytesPerSecond: f.currentBytesPerSecond === undefined ? undefined : Math.round(f.currentBytesPerSecond),
    etaSeconds: f.etaSeconds === undefined ? undefined : Math.round(f.etaSeconds),
  };
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Bytes as MiB with one decimal, e.g. `1.5`. */
export function formatMiB(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Seconds as `42s`, `3m05s` or `2h07m`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
