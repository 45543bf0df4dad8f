import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ObjectRef, SourceObject } from '../model.js';
import type { Source } from '../replicate/ports.js';
import type { ByteRateLimiter } from './byte-rate-limiter.js';

/**
 * A Source whose reads pass through one process-wide ByteRateLimiter: the
 * limit counts the bytes read from GCS by every copy in flight together, so it
 * is the bytes transferred per second (each byte read is sent to S3 once, as
 * parts fill). Built only when a limit is set: without one the reads are the
 * inner source's own streams, untouched. A stream waiting for its turn holds
 * its chunk, so the GCS response is paused by backpressure (not a stall:
 * stall-watchdog.ts does not count time with the reader full).
 */
export class ThrottledSource implements Source {
  readonly #inner: Source;
  readonly #limiter: ByteRateLimiter;

  constructor(inner: Source, limiter: ByteRateLimiter) {
    this.#inner = inner;
    this.#limiter = limiter;
  }

  stat(ref: ObjectRef, signal: AbortSignal): Promise<SourceObject | undefined> {
    return this.#inner.stat(ref, signal);
  }

  read(object: SourceObject, signal: AbortSignal, start = 0): Readable {
    const raw = this.#inner.read(object, signal, start);
    const limiter = this.#limiter;
    const throttled = new Transform({
      transform(chunk: Buffer, _encoding, callback: TransformCallback) {
        limiter.take(chunk.length, signal).then(
          () => callback(null, chunk),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    // Errors travel both ways: the inner read's classified error reaches the
    // reader, and destroying the result (a failed upload) releases the read.
    raw.on('error', (err) => throttled.destroy(err));
    throttled.on('close', () => {
      if (!raw.destroyed) raw.destroy();
    });
    raw.pipe(throttled);
    return throttled;
  }
}
