import { describe, expect, it } from 'vitest';
import { formatProgressLine, progressFigures, RateMeter, startProgress } from '../../../src/backfill/progress.js';
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

describe('under a bandwidth limit', () => {
  it('the line shows the current rate and the limit', () => {
    const tally = createTally(0);
    tally.listingDone = true;
    tally.planned = { objects: 10, bytes: 40 * 1048576, byReason: { missing: 10, 'stale-size': 0, 'stale-time': 0 } };
    tally.done = { objects: 2, bytes: 8 * 1048576 };
    tally.copied = { objects: 2, bytes: 8 * 1048576 };
    const f = { ...progressFigures(tally, 4000), limitBytesPerSecond: 2 * 1048576, currentBytesPerSecond: 1.98 * 1048576 };
    expect(formatProgressLine(f)).toBe('backfill 2/10 objects · 8.0/40.0 MiB · 0.5 obj/s 2.0 MiB/s · now 2.0 MiB/s (limit 2.0) · ETA 16s · 0 skipped');
  });

  it('RateMeter: the rate over the last window, not since the start', () => {
    const meter = new RateMeter(5000);
    expect(meter.sample(0, 0)).toBe(0);
    // 10 MB/s for 10 s, then 1 MB/s.
    for (let t = 1; t <= 10; t++) meter.sample(t * 10_000_000, t * 1000);
    let rate = 0;
    for (let t = 11; t <= 20; t++) rate = meter.sample(100_000_000 + (t - 10) * 1_000_000, t * 1000);
    expect(rate).toBeCloseTo(1_000_000, 0);
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

  it('with a limit: the JSON line carries the limit and the current rate', async () => {
    const { logged, logger } = lines();
    let passed = 0;
    const display = startProgress({ tally: createTally(), tty: false, write: () => {}, logger, intervalMs: 5, limit: { bytesPerSecond: 4096, passed: () => (passed += 100) } });
    await new Promise((r) => setTimeout(r, 30));
    display.stop();
    expect(logged.at(-1)![0]).toMatch(/ · now \d+\.\d MiB\/s \(limit 0\.0\)/);
    expect(logged.at(-1)![1]).toMatchObject({ progress: { limitBytesPerSecond: 4096, currentBytesPerSecond: expect.any(Number) } });
  });
});
