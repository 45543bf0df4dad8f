import type { Readable } from 'node:stream';
import { crc32c } from '@node-rs/crc32';
import { crc32cBase64 } from '../replicate/verify-stream.js';
import type { PartBuffer, PartSupply } from './part-buffer-pool.js';

/** One part of an object, read into a buffer from the object's PartSupply. */
export interface Part {
  /** 1-based, in body order: S3 numbers parts 1 to 10,000. */
  readonly number: number;
  /** The part's bytes: `partBytes` of them, except in the last part. */
  readonly data: Buffer;
  /** Gives the buffer back; call once the part's upload has settled. */
  release(): void;
}

export interface PartChunkerOptions {
  /** Part size and buffers for this object. */
  parts: PartSupply;
  /** Exact byte count of the body (GCS's size); the body must end there. */
  size: number;
  /** Names the object in error messages, e.g. `s3://bucket/key`. */
  label: string;
  /** Also compute the CRC32C of the whole body (see `crc32c`): a second pass over every byte, so only when no one else has it. */
  hashWhole: boolean;
  /** Cancels a wait for a buffer. */
  signal: AbortSignal;
}

/**
 * Cuts a body into parts of `partBytes`, each read into a buffer drawn only
 * when its first byte arrives, so nothing is held before it is needed.
 *
 * The last part is handed out only after the body has ended cleanly: for the
 * core's VerifyingStream, that is after its size and checksum checks passed,
 * so a body that fails them never has all its bytes sent. The body must end at
 * exactly `size` bytes; a longer or shorter body is an error.
 *
 * `next` may be called by several uploaders at once: calls are served one at
 * a time, in order (an async generator queues them).
 */
export class PartChunker {
  readonly #body: Readable;
  readonly #options: PartChunkerOptions;
  readonly #parts: AsyncGenerator<Part, void, undefined>;
  #crc = 0;
  #ended = false;

  constructor(body: Readable, options: PartChunkerOptions) {
    this.#body = body;
    this.#options = options;
    this.#parts = this.#read();
  }

  /** The next part, or undefined after the last. Rejects with the body's error, a length error, or the signal's reason. */
  async next(): Promise<Part | undefined> {
    const result = await this.#parts.next();
    return result.done === true ? undefined : result.value;
  }

  /** Base64 CRC32C of the whole body, once it has ended (with `hashWhole` only). */
  get crc32c(): string {
    if (!this.#options.hashWhole || !this.#ended) throw new Error(`${this.#options.label}: whole-body CRC32C asked before the body ended, or not computed`);
    return crc32cBase64(this.#crc);
  }

  /**
   * Stops reading: destroys the body unless it ended, so a pending `next`
   * rejects at once instead of waiting for a slow source's next chunk, and
   * gives back the buffer of a part being filled.
   */
  async close(): Promise<void> {
    if (!this.#ended && !this.#body.destroyed) this.#body.destroy();
    // Queued behind any pending next, which the destroy above settles.
    await this.#parts.return(undefined).catch(() => undefined);
  }

  async *#read(): AsyncGenerator<Part, void, undefined> {
    const { parts, size, hashWhole, signal } = this.#options;
    let filling: PartBuffer | undefined;
    let filled = 0;
    let placed = 0;
    let number = 0;
    try {
      for await (const chunk of this.#body as AsyncIterable<Buffer>) {
        this.#checkLength(placed + chunk.length, false);
        if (hashWhole) this.#crc = crc32c(chunk, this.#crc);
        for (let offset = 0; offset < chunk.length; ) {
          filling ??= await parts.acquire(signal);
          const n = Math.min(chunk.length - offset, parts.partBytes - filled);
          chunk.copy(filling.bytes, filled, offset, offset + n);
          filled += n;
          offset += n;
          placed += n;
          // A full part goes now, unless it is the last: that one waits for the body's clean end.
          if (filled === parts.partBytes && placed < size) {
            const part = { number: ++number, data: filling.bytes.subarray(0, filled), release: filling.release };
            filling = undefined;
            filled = 0;
            yield part;
          }
        }
      }
      this.#checkLength(placed, true);
      this.#ended = true;
      if (filling !== undefined) {
        const part = { number: ++number, data: filling.bytes.subarray(0, filled), release: filling.release };
        filling = undefined;
        yield part;
      } else if (number === 0) {
        yield { number: 1, data: Buffer.alloc(0), release: () => undefined };
      }
    } finally {
      filling?.release();
    }
  }

  /** The body may not run past `size`, and must end exactly at it. */
  #checkLength(seen: number, ended: boolean): void {
    const { size, label } = this.#options;
    if (seen > size) throw new Error(`${label}: body is longer than the ${size} bytes announced`);
    if (ended && seen !== size) throw new Error(`${label}: body ended after ${seen} of ${size} bytes`);
  }
}
