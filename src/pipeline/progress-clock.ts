import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Source } from '../replicate/ports.js';

/**
 * When the process last made progress while it had work: a delivery settled
 * (copied, skipped or failed, all the same here), or a byte was read from the
 * source. Idle time never counts. Every network call has its own deadline, so
 * a process whose clock stops for longer than the longest chain of deadlines
 * is stuck in a way no deadline catches (a bug, a wedged event loop, a socket
 * some library holds for ever), and only a restart helps.
 */
export class ProgressClock {
  readonly #now: () => number;
  #busy = 0;
  #last: number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#last = now();
  }

  /** A delivery started. The clock starts when the first of several does. */
  started(): void {
    if (this.#busy++ === 0) this.#last = this.#now();
  }

  /** A delivery settled: progress, whatever its outcome. */
  settled(): void {
    this.#busy--;
    this.#last = this.#now();
  }

  /** Deliveries started and not settled. */
  get busy(): number {
    return this.#busy;
  }

  /** How long deliveries have been in flight without progress, ms; 0 when idle. */
  silentForMs(): number {
    return this.#busy === 0 ? 0 : this.#now() - this.#last;
  }

  /** `source`, with every chunk read counted as progress. */
  observe(source: Source): Source {
    const tick = (): void => {
      this.#last = this.#now();
    };
    return {
      stat: (ref, signal) => source.stat(ref, signal),
      read: (object, signal, start) => counted(source.read(object, signal, start), tick),
    };
  }
}

/** `stream` through a pass-through that calls `tick` per chunk; destroying either ends both. */
function counted(stream: Readable, tick: () => void): Readable {
  const out = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      tick();
      callback(null, chunk);
    },
  });
  // Not pipeline(): the reader must get the source's own (classified) error, not a premature-close one.
  stream.on('error', (err) => out.destroy(err));
  stream.pipe(out);
  out.once('close', () => {
    if (!stream.destroyed) stream.destroy();
  });
  return out;
}
