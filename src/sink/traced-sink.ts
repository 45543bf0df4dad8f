import type { Readable } from 'node:stream';
import type { SinkObject } from '../model.js';
import type { Sink, WriteCondition, WriteSpec } from '../replicate/ports.js';
import { inClientSpan } from '../trace/spans.js';

/** A Sink whose object writes are `s3.upload` spans (multipart or single PUT, retries included). */
export class TracedSink implements Sink {
  readonly #inner: Sink;
  readonly #bucket: string;

  constructor(inner: Sink, bucket: string) {
    this.#inner = inner;
    this.#bucket = bucket;
  }

  head(key: string, signal: AbortSignal): Promise<SinkObject | undefined> {
    return this.#inner.head(key, signal);
  }

  write(key: string, body: Readable, spec: WriteSpec, condition: WriteCondition, signal: AbortSignal): Promise<void> {
    const attributes = { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'aws.s3.bucket': this.#bucket, 'aws.s3.key': key, 'object.size': spec.size };
    return inClientSpan('s3.upload', attributes, () => this.#inner.write(key, body, spec, condition, signal));
  }

  updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    return this.#inner.updateMetadata(key, spec, condition, signal);
  }

  remove(key: string, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    return this.#inner.remove(key, condition, signal);
  }
}
