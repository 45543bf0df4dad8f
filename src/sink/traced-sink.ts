import type { SinkObject } from '../model.js';
import type { OpenBody, PendingUpload, Sink, WriteCondition, WriteReport, WriteSpec } from '../replicate/ports.js';
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

  write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition, signal: AbortSignal): Promise<WriteReport | void> {
    const attributes = { 'rpc.system': 'aws-api', 'rpc.service': 'S3', 'aws.s3.bucket': this.#bucket, 'aws.s3.key': key, 'object.size': spec.size };
    return inClientSpan('s3.upload', attributes, () => this.#inner.write(key, body, spec, condition, signal));
  }

  updateMetadata(key: string, spec: WriteSpec, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    return this.#inner.updateMetadata(key, spec, condition, signal);
  }

  remove(key: string, condition: { ifMatch: string }, signal: AbortSignal): Promise<void> {
    return this.#inner.remove(key, condition, signal);
  }

  isMultipart(size: number): boolean {
    return this.#inner.isMultipart(size);
  }

  listUploads(key: string, signal: AbortSignal): Promise<PendingUpload[]> {
    return this.#inner.listUploads(key, signal);
  }

  abortUploads(key: string, uploadIds: readonly string[], signal: AbortSignal): Promise<number> {
    return this.#inner.abortUploads(key, uploadIds, signal);
  }
}
