/**
 * The one path every way in shares: a decoded delivery (a Pub/Sub message, a
 * push request, a CloudEvent, a command line) goes through `handle`, which
 * replicates, logs one line and says whether the delivery is done or must be
 * retried. Transports keep only what is theirs: the pull worker its flow
 * control and leases, the server its HTTP, authentication and status codes.
 *
 * It also owns shutdown: `drain` waits for tracked work for `drainMs`, then
 * fires `stopSignal`, which every copy started here listens to, so open
 * multipart uploads are aborted and the deliveries answered before the
 * process is killed.
 *
 * And it keeps the progress clock that `/healthz` of pull and serve reads: a
 * process with deliveries in flight and no progress for `livenessMs` reports
 * itself unhealthy, so the platform restarts it.
 */
import type { Decoded } from '../events/types.js';
import type { Logger, LogFields } from '../log/logger.js';
import type { Outcome } from '../model.js';
import { replicateObject, type CopyHints, type ReplicateDeps } from '../replicate/replicate-object.js';
import { inReplicationSpan } from '../trace/spans.js';
import { lagFields, logOutcome, objectUrl, type Via } from './log-outcome.js';
import { ProgressClock } from './progress-clock.js';

/**
 * Cloud Run sends SIGTERM, then SIGKILL 10 s later. 6 s of drain leaves 4 s
 * to abort what is still open (each abort is one request) and exit.
 */
export const DEFAULT_DRAIN_MS = 6000;

export interface PipelineOptions {
  deps: ReplicateDeps;
  logger: Logger;
  /** On `drain`: how long tracked work may still finish before it is aborted, ms. Default 6000. */
  drainMs?: number;
  /** Clock for replication-lag figures and the progress clock (tests). Default Date.now. */
  now?: () => number;
  /** LIVENESS_TIMEOUT_SECONDS in ms: in flight this long without progress is unhealthy. Default 600 000. */
  livenessMs?: number;
}

/** What `/healthz` reports. */
export interface Health {
  healthy: boolean;
  /** Deliveries in flight. */
  inFlight: number;
  /** How long they have gone without progress, ms. */
  silentForMs: number;
}

export const DEFAULT_LIVENESS_MS = 600_000;

/** Done: ack / 2xx / counted. Retry: nack / 503, the transport's redelivery takes over. */
export type Disposition = 'done' | 'retry';

export interface Delivery {
  /** The way in, written as `via` on the log line. */
  via: Via;
  /** Cancels this delivery's work (client gone, subscription closed…); the pipeline adds its own stop. */
  signal?: AbortSignal;
  /** The delivery is worthless after `ms` (a push request's ack deadline): its copy is aborted, for the reason `name`. */
  deadline?: { ms: number; name: string };
  /** Fields for every line about this delivery (messageId, deliveryAttempt…). */
  fields?: LogFields;
  /** Called once the work is done, before its line is logged (a progress display ends its line). */
  settled?: () => void;
  /** Fields known only once the work is done (the HTTP status), added to the outcome line. */
  finalFields?: (handled: Handled) => LogFields;
  /** What a listing already told about the object (backfill). */
  hints?: CopyHints;
}

export interface Handled {
  disposition: Disposition;
  /** Present when the delivery named an event to replicate. */
  outcome?: Outcome;
  /** Why the work was cancelled, when it was. */
  abortedBy?: string;
}

/** Only a retryable failure is worth another delivery; everything else is done for good. */
export function dispositionOf(outcome: Outcome): Disposition {
  return outcome.status === 'failed' && outcome.retryable ? 'retry' : 'done';
}

/** What to call a delivery in a log line about it. */
const NOUNS: Record<Via, string> = {
  pull: 'notification',
  push: 'push message',
  cloudevent: 'CloudEvent',
  copy: 'request',
  backfill: 'listing entry',
};

export class EventPipeline {
  readonly #options: PipelineOptions;
  readonly #stop = new AbortController();
  readonly #tracked = new Set<Promise<unknown>>();
  readonly #progress: ProgressClock;
  readonly #deps: ReplicateDeps;
  #draining: Promise<void> | undefined;
  #reportedStuck = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#progress = new ProgressClock(options.now);
    this.#deps = { ...options.deps, source: this.#progress.observe(options.deps.source) };
  }

  /**
   * Unhealthy once deliveries have been in flight for LIVENESS_TIMEOUT_SECONDS
   * with none settling and no byte read. Logged once per episode, at ERROR.
   */
  health(): Health {
    const silentForMs = this.#progress.silentForMs();
    const healthy = silentForMs <= (this.#options.livenessMs ?? DEFAULT_LIVENESS_MS);
    const fields = { inflight: this.#progress.busy, silentForSeconds: Math.round(silentForMs / 1000) };
    if (!healthy && !this.#reportedStuck) {
      this.#options.logger.error(`no progress for ${fields.silentForSeconds} s with ${fields.inflight} copies in flight: reporting unhealthy, so the platform restarts this process`, fields);
    } else if (healthy && this.#reportedStuck) {
      this.#options.logger.info('progress again: reporting healthy', fields);
    }
    this.#reportedStuck = !healthy;
    return { healthy, inFlight: this.#progress.busy, silentForMs };
  }

  /** Fires when drain time is up: work still open is aborted. */
  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** True once `drain` was called: transports refuse new work. */
  get draining(): boolean {
    return this.#draining !== undefined;
  }

  /** Tracked work not yet settled. */
  get inFlight(): number {
    return this.#tracked.size;
  }

  /** Counts `work` as in flight until it settles, so `drain` waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#tracked.add(work);
    const untrack = (): void => {
      this.#tracked.delete(work);
    };
    work.then(untrack, untrack);
    return work;
  }

  /** Replicates one decoded delivery and logs one line. Never throws. */
  handle(decoded: Decoded, delivery: Delivery): Promise<Handled> {
    return this.track(this.#handle(decoded, delivery));
  }

  async #handle(decoded: Decoded, delivery: Delivery): Promise<Handled> {
    const { logger } = this.#options;
    const base = { via: delivery.via, ...delivery.fields };
    if (decoded.type === 'malformed') {
      const handled: Handled = { disposition: 'done' };
      // Retrying can never decode it: acked, so a poison message cannot loop.
      logger.error(`malformed ${NOUNS[delivery.via]} acked and dropped: ${decoded.reason}`, { ...base, outcome: 'malformed', reason: decoded.reason, ...delivery.finalFields?.(handled) });
      return handled;
    }
    if (decoded.type === 'ignored') {
      const handled: Handled = { disposition: 'done' };
      const object = decoded.ref === undefined ? undefined : objectUrl(decoded.ref);
      logger.debug(`${delivery.via} event ignored: ${decoded.reason}`, { ...base, outcome: 'ignored', reason: decoded.reason, object, ...delivery.finalFields?.(handled) });
      return handled;
    }
    const { signal, dispose } = this.#signalFor(delivery);
    const started = performance.now();
    this.#progress.started();
    try {
      const { ref } = decoded.event;
      const outcome = await inReplicationSpan({ 'gcs.bucket': ref.bucket, 'gcs.object': ref.name, 'gcs2s3.via': delivery.via }, () =>
        replicateObject(decoded.event, this.#deps, signal, delivery.hints),
      );
      const handled: Handled = { disposition: dispositionOf(outcome), outcome, ...(signal.aborted ? { abortedBy: reasonOf(signal) } : {}) };
      const now = (this.#options.now ?? Date.now)();
      delivery.settled?.();
      logOutcome(logger, {
        event: decoded.event,
        outcome,
        durationMs: performance.now() - started,
        via: delivery.via,
        fields: { ...delivery.fields, ...lagFields(decoded.event, outcome.status, now), abortedBy: handled.abortedBy, ...delivery.finalFields?.(handled) },
      });
      return handled;
    } finally {
      this.#progress.settled();
      dispose();
    }
  }

  /** The delivery's own signal, the pipeline's stop and the deadline, whichever fires first. */
  #signalFor(delivery: Delivery): { signal: AbortSignal; dispose: () => void } {
    const signals = [this.#stop.signal];
    if (delivery.signal !== undefined) signals.push(delivery.signal);
    let timer: NodeJS.Timeout | undefined;
    const { deadline } = delivery;
    if (deadline !== undefined) {
      const expired = new AbortController();
      timer = setTimeout(() => expired.abort(new Error(`${deadline.name} (${deadline.ms} ms)`)), deadline.ms);
      signals.push(expired.signal);
    }
    return { signal: AbortSignal.any(signals), dispose: () => clearTimeout(timer) };
  }

  /**
   * Graceful stop: lets tracked work finish for `drainMs`, then fires
   * `stopSignal` and waits for the aborted work to answer its deliveries.
   * Idempotent: a second call waits for the first.
   */
  drain(): Promise<void> {
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    const { logger } = this.#options;
    const drainMs = this.#options.drainMs ?? DEFAULT_DRAIN_MS;
    logger.info('stopping: no new work; waiting for work in flight', { inflight: this.#tracked.size, drainMs });
    const timer = setTimeout(() => {
      if (this.#tracked.size > 0) logger.warn('aborting work in flight: drain time is up', { inflight: this.#tracked.size });
      this.#stop.abort(new Error('shutting down'));
    }, drainMs);
    try {
      // Work tracked while draining (a request already being read) is waited for too.
      while (this.#tracked.size > 0) await Promise.allSettled([...this.#tracked]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
}
