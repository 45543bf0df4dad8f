import type { Decoded, EventPolicy } from '../events/types.js';
import { decodeNotification } from '../events/decode-notification.js';
import type { Logger } from '../log/logger.js';
import type { EventPipeline } from '../pipeline/event-pipeline.js';

/** What the worker needs of a Pub/Sub message (the client's `Message` has it). */
export interface PulledMessage {
  id: string;
  attributes: Record<string, string>;
  data: Buffer;
  publishTime?: { toISOString(): string } | Date;
  deliveryAttempt?: number;
  ack(): void;
  nack(): void;
}

/** What the worker needs of a subscription (the client's `Subscription` has it). */
export interface MessageSource {
  on(event: 'message', listener: (message: PulledMessage) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(event: 'message' | 'error'): unknown;
  /** Stops the stream at once, waits for handlers, then flushes acks/nacks. */
  close(): Promise<void>;
}

export interface PullWorkerOptions {
  subscription: MessageSource;
  /** Replicates, logs and drains: shared with every other way in. */
  pipeline: EventPipeline;
  policy: EventPolicy;
  logger: Logger;
}

export type MessageDisposition = 'ack' | 'nack';

/**
 * Runs until `signal` fires, then drains: stops pulling, lets in-flight copies
 * finish for the pipeline's drain time, aborts the rest, and resolves once
 * every message has been acked or nacked. Rejects if the subscription fails
 * for good (e.g. it does not exist), after the same drain.
 */
export async function runPullWorker(options: PullWorkerOptions, signal: AbortSignal): Promise<void> {
  const { subscription, logger, pipeline } = options;
  let fatal: Error | undefined;

  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    subscription.on('error', (err: Error) => {
      fatal = err;
      logger.error(`Pub/Sub subscription failed: ${err.message}`, { error: err });
      resolve();
    });
  });

  subscription.on('message', (message) => {
    void handleMessage(message, options).then((disposition) => {
      if (disposition === 'ack') message.ack();
      else message.nack();
    });
  });
  logger.info('pull worker started');

  await stopped;
  try {
    // close() stops the stream at once and waits for our handlers (WAIT mode).
    await Promise.all([subscription.close(), pipeline.drain()]);
  } finally {
    subscription.removeAllListeners('message');
  }
  logger.info('pull worker stopped');
  if (fatal !== undefined) throw fatal;
}

/**
 * Decodes one message and hands it to the pipeline, which replicates and
 * logs; the answer is ack for everything done for good (copied, skipped,
 * ignored, malformed, failed permanently) and nack for a transient failure,
 * so Pub/Sub redelivers (its dead-letter policy bounds the attempts).
 */
export async function handleMessage(message: PulledMessage, options: Pick<PullWorkerOptions, 'pipeline' | 'policy' | 'logger'>): Promise<MessageDisposition> {
  const fields = { messageId: message.id, deliveryAttempt: message.deliveryAttempt };
  const publishTime = message.publishTime === undefined ? undefined : message.publishTime.toISOString();
  let decoded: Decoded;
  try {
    decoded = decodeNotification({ attributes: message.attributes ?? {}, data: message.data, messageId: message.id, publishTime }, options.policy);
  } catch (err) {
    // The decoder never throws by contract; a bug there must not loop forever either.
    decoded = { type: 'malformed', reason: `decoder failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const handled = await options.pipeline.handle(decoded, {
    via: 'pull',
    fields: decoded.type === 'malformed' ? { ...fields, attributes: message.attributes } : fields,
  });
  return handled.disposition === 'retry' ? 'nack' : 'ack';
}
