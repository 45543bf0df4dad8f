import type { Readable } from 'node:stream';
import type { ObjectRef, SourceObject } from '../model.js';
import type { Source } from '../replicate/ports.js';
import { spanOverStream } from '../trace/spans.js';

/** A Source whose reads are `gcs.read` spans, from the first byte asked for to the last one read. */
export class TracedSource implements Source {
  readonly #inner: Source;

  constructor(inner: Source) {
    this.#inner = inner;
  }

  stat(ref: ObjectRef, signal: AbortSignal): Promise<SourceObject | undefined> {
    return this.#inner.stat(ref, signal);
  }

  read(object: SourceObject, signal: AbortSignal): Readable {
    const attributes = { 'gcs.bucket': object.bucket, 'gcs.object': object.name, 'gcs.generation': object.generation, 'object.size': object.size };
    return spanOverStream('gcs.read', attributes, () => this.#inner.read(object, signal));
  }
}
