import type { Decoded, EventPolicy } from '../events/types.js';
import { decodeNotification } from '../events/decode-notification.js';
import type { Logger } from '../log/logger.js';
import { lagFields, logOutcome } from '../main/log-outcome.js';
import { replicateObject, type ReplicateDeps } from '../replicate/replicate-object.js';

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
  deps: ReplicateDeps;
  policy: EventPolicy;
  logger: Logger;
  /**
   * How long in-flight copies may run after shutdown starts before they are
   * aborted (their multipart uploads aborted, their messages nacked). Cloud Run
   * allows 10 s between SIGTERM and SIGKILL. Default 6000 ms.
   */
  drainMs?: number;
  now?: () => number;
}

export type MessageDisposition = 'ack' | 'nack';

/**
 * Runs until `signal` fires, then drains: stops pulling, lets in-flight copies
 * finish for `drainMs`, aborts the rest, and resolves once every message has
 * been acked or nacked. Rejects if the subscription fails for good (e.g. it
 * does not exist), after the same drain.
 */
export async function runPullWorker(options: PullWorkerOptions, signal: AbortSignal): Promise<void> {
  const { subscription, logger } = options;
  const hardStop = new AbortController();
  const inflight = new Set<Promise<void>>();
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
    const work = handleMessage(message, options, hardStop.signal).then((disposition) => {
      if (disposition === 'ack') message.ack();
      else message.nack();
    });
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  });
  logger.info('pull worker started');

  await stopped;
  const drainMs = options.drainMs ?? 6000;
  logger.info('pull worker stopping: no new messages; waiting for in-flight copies', { inflight: inflight.size, drainMs });
  const timer = setTimeout(() => {
    if (inflight.size > 0) logger.warn('aborting in-flight copies: drain time is up', { inflight: inflight.size });
    hardStop.abort();
  }, drainMs);
  try {
    // close() stops the stream at once and waits for our handlers (WAIT mode).
    const closed = subscription.close();
    await Promise.all([...inflight]);
    await closed;
  } finally {
    clearTimeout(timer);
    subscription.removeAllListeners('message');
  }
  logger.info('pull worker stopped');
  if (fatal !== undefined) throw fatal;
}

/**
 * Decodes one message, replicates, logs one line, and says ack or nack:
 * ack for copied/skipped/ignored/permanent failures (and malformed messages,
 * which can never succeed), nack for transient failures so Pub/Sub redelivers
 * (its dead-letter policy bounds the attempts).
 */
export async function handleMessage(message: PulledMessage, options: PullWorkerOptions, signal: AbortSignal): Promise<MessageDisposition> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const started = performance.now();
  const publishTime = message.publishTime === undefined ? undefined : message.publishTime.toISOString();
  const base = { via: 'pull', messageId: message.id, deliveryAttempt: message.deliveryAttempt };
  let decoded: Decoded;
  try {
    decoded = decodeNotification({ attributes: message.attributes ?? {}, data: message.data, messageId: message.id, publishTime }, options.policy);
  } catch (err) {
    // The decoder never throws by contract; a bug there must not loop forever either.
    logger.error(`message ${message.id} could not be decoded: ${err instanceof Error ? err.message : String(err)}`, { ...base, outcome: 'malformed' });
    return 'ack';
  }
  if (decoded.type === 'malformed') {
    logger.error(`malformed notification acked and dropped: ${decoded.reason}`, { ...base, outcome: 'malformed', reason: decoded.reason, attributes: message.attributes });
    return 'ack';
  }
  if (decoded.type === 'ignored') {
    logger.debug(`notification ignored: ${decoded.reason}`, { ...base, outcome: 'ignored', reason: decoded.reason, object: decoded.ref ? `gs://${decoded.ref.bucket}/${decoded.ref.name}` : undefined });
    return 'ack';
  }
  const outcome = await replicateObject(decoded.event, options.deps, signal);
  logOutcome(logger, {
    event: decoded.event,
    outcome,
    durationMs: performance.now() - started,
    via: 'pull',
    fields: { messageId: message.id, deliveryAttempt: message.deliveryAttempt, ...lagFields(decoded.event, outcome.status, now()) },
  });
  return outcome.status === 'failed' && outcome.retryable ? 'nack' : 'ack';
}
