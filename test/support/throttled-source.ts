import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import type { ObjectRef, SourceObject } from '../../src/model.js';
import type { Source } from '../../src/replicate/ports.js';

/**
 * Decorates a real Source (our own port) so its bytes arrive at a fixed rate:
 * lets a test make a real copy last longer than a credential's lifetime, or be
 * interrupted half way. The bytes are GCS's, untouched.
 */
export class ThrottledSource implements Source {
  constructor(
    private readonly inner: Source,
    private readonly bytesPerSecond: number,
  ) {}

  stat(ref: ObjectRef, signal: AbortSignal): Promise<SourceObject | undefined> {
    return this.inner.stat(ref, signal);
  }

  read(object: SourceObject, signal: AbortSignal): Readable {
    const rate = this.bytesPerSecond;
    const started = Date.now();
    let sent = 0;
    const throttle = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        sent += chunk.length;
        const due = started + (sent / rate) * 1000;
        setTimeout(() => callback(null, chunk), Math.max(0, due - Date.now()));
      },
    });
    const raw = this.inner.read(object, signal);
    raw.on('error', (err) => throttle.destroy(err));
    throttle.on('close', () => raw.destroy());
    return raw.pipe(throttle);
  }
}
