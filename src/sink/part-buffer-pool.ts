/**
 * The buffers multipart parts are assembled in, shared by every upload of a
 * process and reused from part to part.
 *
 * Why not lib-storage's own buffering: it allocates a fresh part-sized buffer
 * for every part (Buffer.concat of the chunks read), and first-touch page
 * faults on that fresh memory plus the garbage collection it drives cost more
 * CPU than the copy itself (measured: a third of an upload's CPU). Reused
 * buffers are already mapped. And the pool makes the memory bound a fact rather
 * than an estimate: the process never holds more than `max` buffers, so at most
 * MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE × PART_SIZE of part data.
 */
export class PartBufferPool {
  readonly #free: Buffer[] = [];
  readonly #waiters: Array<(buffer: Buffer) => void> = [];
  #allocated = 0;
  #inUse = 0;
  #peakInUse = 0;

  /**
   * @param bufferBytes size of each buffer (the configured part size)
   * @param max buffers that may exist at once
   */
  constructor(
    readonly bufferBytes: number,
    readonly max: number,
  ) {
    if (!Number.isInteger(bufferBytes) || bufferBytes <= 0) throw new RangeError(`bufferBytes must be a positive integer, got ${bufferBytes}`);
    if (!Number.isInteger(max) || max <= 0) throw new RangeError(`max must be a positive integer, got ${max}`);
  }

  /** A buffer of `bufferBytes`; waits while `max` are in use. Rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const free = this.#free.pop();
    if (free !== undefined) return Promise.resolve(this.#lend(free));
    if (this.#allocated < this.max) {
      this.#allocated++;
      // Unpooled: each buffer is its own allocation, returned whole to the pool.
      return Promise.resolve(this.#lend(Buffer.allocUnsafeSlow(this.bufferBytes)));
    }
    return new Promise<Buffer>((resolve, reject) => {
      const waiter = (buffer: Buffer): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.#lend(buffer));
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives `buffer` back: to the longest waiter, else to the free list. */
  release(buffer: Buffer): void {
    if (buffer.length !== this.bufferBytes) throw new RangeError('release: not a buffer of this pool');
    this.#inUse--;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(buffer);
    else this.#free.push(buffer);
  }

  /** Buffers lent and not yet released; the most ever; and how many exist. */
  get stats(): { inUse: number; peakInUse: number; allocated: number } {
    return { inUse: this.#inUse, peakInUse: this.#peakInUse, allocated: this.#allocated };
  }

  #lend(buffer: Buffer): Buffer {
    this.#inUse++;
    if (this.#inUse > this.#peakInUse) this.#peakInUse = this.#inUse;
    return buffer;
  }
}
