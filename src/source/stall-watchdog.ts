import type { Writable } from 'node:stream';

export interface StallWatch {
  /** Longest wait for the first byte, ms: the request, its retries and the response headers. */
  firstByteMs: number;
  /** Longest wait for each next byte, ms. */
  stallMs: number;
  /** Called once, with the limit exceeded (ms), when either wait is exceeded. */
  onStall(limitMs: number, gotFirstByte: boolean): void;
}

/** A running stall clock: `progress()` on every chunk that arrives; `stop()` when done. */
export interface StallClock {
  progress(): void;
  stop(): void;
}

/**
 * A stall clock over the stream `to` a response is piped into: fires
 * `onStall` when no byte has come for the allowed time while `to` had room
 * for more. Time spent with `to` full does not count: then the reader
 * downstream (an upload waiting for S3) is the slow one, and it has
 * deadlines of its own. Started before there is a response (a request still
 * waiting for its answer): the first-byte limit runs from now, and the
 * caller reports each chunk with `progress()` once bytes flow. Stops when
 * `to` closes, or on `stop()`.
 */
export function startStallClock(to: Writable, watch: StallWatch): StallClock {
  let lastProgress = Date.now();
  let gotFirstByte = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const limit = (): number => (gotFirstByte ? watch.stallMs : watch.firstByteMs);
  const check = (): void => {
    const now = Date.now();
    // Backpressure is not a stall: the clock restarts when `to` has room again.
    if (to.writableNeedDrain) lastProgress = now;
    const left = lastProgress + limit() - now;
    if (left > 0) {
      timer = setTimeout(check, left);
      return;
    }
    stop();
    watch.onStall(limit(), gotFirstByte);
  };
  const progress = (): void => {
    lastProgress = Date.now();
    if (gotFirstByte || stopped) return;
    // From now on the shorter limit applies: re-arm so a stall is caught at it, not at the first-byte one.
    gotFirstByte = true;
    clearTimeout(timer);
    timer = setTimeout(check, watch.stallMs);
  };
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
  };
  to.once('close', stop);
  timer = setTimeout(check, limit());
  return { progress, stop };
}
