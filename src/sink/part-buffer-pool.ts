import { PermanentError } from '../errors.js';
import { choosePartSize, MIB } from './part-size.js';

/**
 * Objects up to this size are read into a buffer of their own size, not a
 * pooled one: a pooled buffer is a whole part (16 MiB by default), far more
 * than a small object needs, and small objects are most of a bucket.
 */
const SMALL_OBJECT_BYTES = MIB;

/** A part buffer lent by the pool. */
export interface PartBuffer {
  /** At least the `partBytes` of the supply it came from. */
  readonly bytes: Buffer;
  /** Gives the buffer back, once the part's upload has settled; later calls do nothing. */
  release(): void;
}

/**
 * The parts one object is cut into: their size, and the buffers they are read
 * into. A part size only ever comes with the pool its buffers are drawn from,
 * so the two cannot disagree.
 */
export interface PartSupply {
  /**
   * Bytes in every part but the last (which may be shorter): the pool's buffer
   * size, grown for objects over 10,000 such parts; the object's own size when
   * it fits in one part.
   */
  readonly partBytes: number;
  /** A buffer for one part; waits while the pool is exhausted; rejects with the reason if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<PartBuffer>;
}

export interface PartBufferPoolOptions {
  /** Bytes per pooled buffer: the configured part size (PART_SIZE_MIB × 1 MiB; default 16 MiB). */
  bufferBytes: number;
  /** Buffers the process may hold at once: MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE (default 8 × 4 = 32). */
  buffers: number;
  /** Allocates a buffer (tests make it fail). Default Buffer.allocUnsafeSlow. */
  allocate?: (bytes: number) => Buffer;
}

/** Buffers lent now (in slots of `bufferBytes`), the most ever lent, and the pooled buffers that exist. */
export interface PartBufferStats {
  inUse: number;
  peakInUse: number;
  allocated: number;
}

interface Waiter {
  slots: number;
  grant(): void;
}

/**
 * The buffers multipart parts are assembled in, shared by every upload of a
 * process and reused from part to part.
 *
 * Why not lib-storage's own buffering: it allocates a fresh part-sized buffer
 * for every part (Buffer.concat of the chunks read), and first-touch page
 * faults on that fresh memory plus the garbage collection it drives cost more
 * CPU than the copy itself (measured: a third of an upload's CPU). Reused
 * buffers are already mapped. And the pool makes the memory bound a fact rather
 * than an estimate: the process never holds more than `buffers` slots of
 * `bufferBytes`, so at most MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE × PART_SIZE
 * of part data. A part grown past `bufferBytes` (objects over 10,000 parts)
 * takes as many slots as it covers, and cached buffers are dropped to make room
 * for it; only a part larger than the whole pool (which S3's 10,000-part limit
 * can force) goes over the bound, and it then has the pool to itself.
 */
export class PartBufferPool {
  readonly bufferBytes: number;
  /** Slots of `bufferBytes` that may be lent at once. */
  readonly max: number;
  readonly #allocate: (bytes: number) => Buffer;
  readonly #free: Buffer[] = [];
  readonly #waiters: Waiter[] = [];
  #allocated = 0;
  #inUse = 0;
  #peakInUse = 0;

  constructor(options: PartBufferPoolOptions) {
    const { bufferBytes, buffers } = options;
    this.#allocate = options.allocate ?? ((bytes) => Buffer.allocUnsafeSlow(bytes));
    if (!Number.isInteger(bufferBytes) || bufferBytes <= 0) throw new RangeError(`bufferBytes must be a positive integer, got ${bufferBytes}`);
    if (!Number.isInteger(buffers) || buffers <= 0) throw new RangeError(`buffers must be a positive integer, got ${buffers}`);
    this.bufferBytes = bufferBytes;
    this.max = buffers;
  }

  /** The part size for an object of `objectSize` bytes, with the buffers its parts are read into. */
  partsFor(objectSize: number): PartSupply {
    if (objectSize <= SMALL_OBJECT_BYTES) {
      return { partBytes: objectSize, acquire: async (signal) => (signal.throwIfAborted(), unpooled(Buffer.allocUnsafe(objectSize))) };
    }
    const partBytes = Math.min(choosePartSize(objectSize, this.bufferBytes), objectSize);
    if (partBytes <= this.bufferBytes) return { partBytes, acquire: (signal) => this.#lend(1, signal, () => this.#pooled()) };
    const slots = Math.min(Math.ceil(partBytes / this.bufferBytes), this.max);
    return { partBytes, acquire: (signal) => this.#lend(slots, signal, () => this.#grown(slots, partBytes)) };
  }

  get stats(): PartBufferStats {
    return { inUse: this.#inUse, peakInUse: this.#peakInUse, allocated: this.#allocated };
  }

  /** Waits for `slots` free slots (first come, first served), takes them, and makes the buffer. */
  #lend(slots: number, signal: AbortSignal, make: () => PartBuffer): Promise<PartBuffer> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0 && this.#inUse + slots <= this.max) {
      this.#take(slots);
      return this.#made(slots, make);
    }
    return new Promise<PartBuffer>((resolve, reject) => {
      const waiter: Waiter = {
        slots,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.#made(slots, make).then(resolve, reject);
        },
      };
      const onAbort = (): void => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(signal.reason);
        // A smaller request behind this one may fit now.
        this.#grantWaiting();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * The buffer for slots just taken. An allocation that fails (a part size
   * the machine's memory cannot hold) gives the slots back at once: kept,
   * they would stall every later part for ever. It fails the part as a
   * permanent error naming the size.
   */
  #made(slots: number, make: () => PartBuffer): Promise<PartBuffer> {
    try {
      return Promise.resolve(make());
    } catch (err) {
      this.#give(slots);
      const bytes = slots * this.bufferBytes;
      return Promise.reject(new PermanentError(`could not allocate a part buffer of ${bytes} bytes (PART_SIZE_MIB too large for this machine's memory?): ${err instanceof Error ? err.message : String(err)}`, { code: 'PartBufferAllocationFailed', cause: err }));
    }
  }

  /** One slot's buffer: a cached one, else a new one (the slot is already taken, so the total stays within `max`). */
  #pooled(): PartBuffer {
    let buffer = this.#free.pop();
    if (buffer === undefined) {
      // Unpooled: each buffer is its own allocation, returned whole to the pool.
      buffer = this.#allocate(this.bufferBytes);
      this.#allocated++;
    }
    const bytes = buffer;
    return once(bytes, () => {
      this.#free.push(bytes);
      this.#give(1);
    });
  }

  /** A part larger than a pooled buffer: its own allocation, over `slots` slots whose cached buffers are dropped. */
  #grown(slots: number, partBytes: number): PartBuffer {
    while (this.#free.length > 0 && this.#inUse + this.#free.length > this.max) {
      this.#free.pop();
      this.#allocated--;
    }
    return once(this.#allocate(partBytes), () => this.#give(slots));
  }

  #take(slots: number): void {
    this.#inUse += slots;
    if (this.#inUse > this.#peakInUse) this.#peakInUse = this.#inUse;
  }

  #give(slots: number): void {
    this.#inUse -= slots;
    this.#grantWaiting();
  }

  #grantWaiting(): void {
    for (let next = this.#waiters[0]; next !== undefined && this.#inUse + next.slots <= this.max; next = this.#waiters[0]) {
      this.#waiters.shift();
      this.#take(next.slots);
      next.grant();
    }
  }
}

function unpooled(bytes: Buffer): PartBuffer {
  return { bytes, release: () => undefined };
}

function once(bytes: Buffer, give: () => void): PartBuffer {
  let released = false;
  return {
    bytes,
    release: () => {
      if (released) return;
      released = true;
      give();
    },
  };
}
