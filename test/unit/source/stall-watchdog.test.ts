import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startStallClock } from '../../../src/source/stall-watchdog.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A source whose bytes the test pushes by hand, piped into a pass-through like GcsSource's. */
function piped(highWaterMark?: number) {
  const from = new Readable({ read() {} });
  const to = new PassThrough(highWaterMark === undefined ? {} : { highWaterMark });
  from.pipe(to);
  const stalls: Array<{ limitMs: number; gotFirstByte: boolean }> = [];
  // As GcsSource.read does: the clock on `to`, each chunk of `from` reported; returns the stop.
  const watch = (firstByteMs: number, stallMs: number) => {
    const clock = startStallClock(to, { firstByteMs, stallMs, onStall: (limitMs, gotFirstByte) => stalls.push({ limitMs, gotFirstByte }) });
    from.on('data', clock.progress);
    return clock.stop;
  };
  return { from, to, stalls, watch };
}

describe('startStallClock', () => {
  it('fires when the first byte does not come within firstByteMs', async () => {
    const { to, stalls, watch } = piped();
    to.resume();
    watch(60, 20);
    await sleep(40);
    expect(stalls).toEqual([]);
    await sleep(60);
    expect(stalls).toEqual([{ limitMs: 60, gotFirstByte: false }]);
  });

  it('after the first byte, fires at the shorter stallMs and only once', async () => {
    const { from, to, stalls, watch } = piped();
    to.resume();
    watch(5000, 200);
    from.push(Buffer.from('a'));
    await sleep(100);
    from.push(Buffer.from('b'));
    await sleep(100);
    // 200 ms since the first byte, 100 since the last: moving.
    expect(stalls).toEqual([]);
    await sleep(300);
    expect(stalls).toEqual([{ limitMs: 200, gotFirstByte: true }]);
    await sleep(250);
    expect(stalls).toHaveLength(1);
  });

  it('does not count time the reader downstream is not reading (backpressure is not a stall)', async () => {
    const { from, stalls, watch } = piped(4);
    watch(50, 50);
    // Nobody reads `to`: it fills, and the pipe pauses `from`.
    for (let i = 0; i < 10; i++) from.push(Buffer.alloc(8));
    await sleep(200);
    expect(stalls).toEqual([]);
  });

  it('stops when the stream it watches is closed, or when told to', async () => {
    const first = piped();
    first.to.resume();
    first.watch(30, 30);
    first.to.destroy();
    const second = piped();
    second.to.resume();
    second.watch(30, 30)();
    await sleep(80);
    expect([...first.stalls, ...second.stalls]).toEqual([]);
  });
});
