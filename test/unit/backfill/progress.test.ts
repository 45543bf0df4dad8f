import { describe, expect, it } from 'vitest';
import { formatProgressLine, progressFigures, startProgress } from '../../../src/backfill/progress.js';
import { createTally } from '../../../src/backfill/tally.js';

describe('progress', () => {
  it('while listing: done counts and listing progress, totals marked open, no ETA', () => {
    const tally = createTally(0);
    tally.listedGcs = 5000;
    tally.planned.objects = 1200;
    tally.planned.bytes = 1200 * 1048576;
    tally.done = { objects: 100, bytes: 100 * 1048576 };
    tally.copied = { objects: 100, bytes: 100 * 1048576 };
    tally.current = 3800;
    const f = progressFigures(tally, 10_000);
    expect(f.etaSeconds).toBeUndefined();
    expect(formatProgressLine(f)).toBe('backfill 100/1,200+ objects (listing: 5,000 seen) · 100.0/1200.0+ MiB · 10 obj/s 10.0 MiB/s · 3,800 skipped');
  });

  it('after listing: totals, rate and the slower ETA of objects and bytes', () => {
    const tally = createTally(0);
    tally.listingDone = true;
    tally.listedGcs = 2000;
    tally.planned = { objects: 1700, bytes: 1700 * 1024, byReason: { missing: 1600, 'stale-size': 50, 'stale-time': 50 } };
    tally.done = { objects: 850, bytes: 850 * 1024 };
    tally.copied = { objects: 849, bytes: 849 * 1024 };
    tally.failed = 1;
    tally.current = 300;
    const f = progressFigures(tally, 17_000);
    expect(f.etaSeconds).toBeCloseTo(17, 5);
    expect(formatProgressLine(f)).toBe('backfill 850/1,700 objects · 0.8/1.7 MiB · 50 obj/s 0.0 MiB/s · ETA 17s · 300 skipped · 1 failed');
  });
});

describe('startProgress', () => {
  const lines = () => {
    const logged: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger = {
      debug() {},
      info: (m: string, f?: Record<string, unknown>) => void logged.push([m, f]),
      warn() {},
      error() {},
      child() {
        return logger;
      },
    };
    return { logged, logger };
  };

  it('not on a terminal: JSON progress log lines with the figures', async () => {
    const { logged, logger } = lines();
    const tally = createTally();
    tally.planned.objects = 4;
    const written: string[] = [];
    const display = startProgress({ tally, tty: false, write: (t) => void written.push(t), logger, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    display.stop();
    expect(written).toEqual([]);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0]![0]).toMatch(/^backfill 0\/4\+ objects/);
    expect(logged[0]![1]).toMatchObject({ progress: { listing: true, totalObjects: 4, doneObjects: 0 } });
  });

  it('on a terminal: one line rewritten in place, ended by a newline', async () => {
    const { logged, logger } = lines();
    const tally = createTally();
    const written: string[] = [];
    const display = startProgress({ tally, tty: true, write: (t) => void written.push(t), logger, intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    tally.listingDone = true;
    display.stop();
    expect(logged).toEqual([]);
    expect(written.slice(0, -1).every((t) => t.startsWith('\r\x1b[2Kbackfill '))).toBe(true);
    expect(written.at(-2)).toMatch(/^\r\x1b\[2Kbackfill 0\/0 objects/);
    expect(written.at(-1)).toBe('\n');
  });
});
