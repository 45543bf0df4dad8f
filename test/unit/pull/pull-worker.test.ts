import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/errors.js';
import type { EventPolicy } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import type { SinkObject } from '../../../src/model.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { handleMessage, runPullWorker, type MessageSource, type PulledMessage } from '../../../src/pull/pull-worker.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const POLICY: EventPolicy = { sourceBuckets: ['src'], includePrefixes: [], excludePrefixes: [], replicateDeletes: false };

/** A message as the Pub/Sub client hands it over, recording what the worker answered. */
function message(attributes: Record<string, string>, data = ''): PulledMessage & { answered: string[] } {
  const answered: string[] = [];
  return {
    id: `m-${Math.random().toString(16).slice(2, 8)}`,
    attributes,
    data: Buffer.from(data),
    deliveryAttempt: 1,
    answered,
    ack: () => answered.push('ack'),
    nack: () => answered.push('nack'),
  };
}

const finalize = (name: string, generation: string, bucket = 'src'): Record<string, string> => ({
  eventType: 'OBJECT_FINALIZE',
  payloadFormat: 'NONE',
  bucketId: bucket,
  objectId: name,
  objectGeneration: generation,
});

function setup(sink = new FakeSink()) {
  const source = new FakeSource();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const pipeline = new EventPipeline({ deps: { source, sink, keyPrefix: '' }, logger, drainMs: 200 });
  return { source, sink, lines, logger, pipeline, options: { pipeline, policy: POLICY, logger } };
}

/** A sink whose writes fail as S3 does when it is unavailable. */
class DownSink extends FakeSink {
  override async head(): Promise<SinkObject | undefined> {
    throw new TransientError('S3 HeadObject failed: ServiceUnavailable (HTTP 503)', { code: 'ServiceUnavailable' });
  }
}

/** A sink whose HEAD never answers until aborted. */
class StuckSink extends FakeSink {
  stuckAborted = 0;
  override head(_key: string, signal?: AbortSignal): Promise<SinkObject | undefined> {
    return new Promise((_, reject) => {
      signal?.addEventListener('abort', () => {
        this.stuckAborted++;
        reject(signal.reason as Error);
      }, { once: true });
    });
  }
}

describe('pull worker: what each message is answered', () => {
  it('acks a copied object, and the copy is in the sink', async () => {
    const { source, sink, options } = setup();
    const meta = source.put('src', 'a.txt', Buffer.from('hello'));
    expect(await handleMessage(message(finalize('a.txt', meta.generation)), options)).toBe('ack');
    expect(sink.objects.get('a.txt')?.bytes.toString()).toBe('hello');
  });

  it('acks an object already current (a duplicate delivery)', async () => {
    const { source, options, lines } = setup();
    const meta = source.put('src', 'a.txt', Buffer.from('hello'));
    await handleMessage(message(finalize('a.txt', meta.generation)), options);
    expect(await handleMessage(message(finalize('a.txt', meta.generation)), options)).toBe('ack');
    expect(lines.at(-1)).toMatchObject({ via: 'pull', outcome: 'skipped', reason: 'already-current' });
  });

  it('acks and drops a malformed message, logging it at ERROR with its attributes', async () => {
    const { options, lines } = setup();
    const bad = message({ eventType: 'OBJECT_FINALIZE', payloadFormat: 'NONE', bucketId: 'src' });
    expect(await handleMessage(bad, options)).toBe('ack');
    expect(lines.at(-1)).toMatchObject({ severity: 'ERROR', outcome: 'malformed', messageId: bad.id, attributes: bad.attributes });
  });

  it('acks an event of a bucket that is not ours without touching the sink', async () => {
    const { options, sink, lines } = setup();
    expect(await handleMessage(message(finalize('a.txt', '5', 'elsewhere')), options)).toBe('ack');
    expect(sink.heads).toBe(0);
    expect(lines.at(-1)).toMatchObject({ severity: 'DEBUG', outcome: 'ignored' });
  });

  it('acks a permanent failure (logged at ERROR): retrying cannot help', async () => {
    const { source, sink, options, lines } = setup();
    const meta = source.put('src', 'a.txt', Buffer.from('x'));
    sink.refuseWith = new PermanentError('metadata too large', { code: 'MetadataTooLarge' });
    expect(await handleMessage(message(finalize('a.txt', meta.generation)), options)).toBe('ack');
    expect(lines.at(-1)).toMatchObject({ severity: 'ERROR', outcome: 'failed', retryable: false });
  });

  it('nacks a transient failure so Pub/Sub redelivers, logged at WARNING', async () => {
    const { source, options, lines } = setup(new DownSink());
    const meta = source.put('src', 'a.txt', Buffer.from('x'));
    expect(await handleMessage(message(finalize('a.txt', meta.generation)), options)).toBe('nack');
    expect(lines.at(-1)).toMatchObject({ severity: 'WARNING', outcome: 'failed', retryable: true });
  });
});

/** A subscription of our own: the worker sees only the MessageSource port. */
class FakeSubscription extends EventEmitter implements MessageSource {
  closed = false;
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('pull worker: shutdown', () => {
  it('on stop, lets finished work answer, aborts stuck copies after the drain time and nacks them', async () => {
    const sink = new StuckSink();
    const { source, options, lines } = setup(sink);
    const subscription = new FakeSubscription();
    const stop = new AbortController();
    const done = runPullWorker({ ...options, subscription }, stop.signal);
    const quick = message(finalize('elsewhere.txt', '1', 'other-bucket'));
    const stuck = message(finalize('a.txt', source.put('src', 'a.txt', Buffer.from('x')).generation));
    subscription.emit('message', quick);
    subscription.emit('message', stuck);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quick.answered).toEqual(['ack']);
    expect(stuck.answered).toEqual([]);

    stop.abort();
    await done;
    expect(subscription.closed).toBe(true);
    expect(sink.stuckAborted).toBe(1);
    expect(stuck.answered).toEqual(['nack']);
    expect(lines).toContainEqual(expect.objectContaining({ outcome: 'failed', retryable: true, abortedBy: 'shutting down' }));
  });

  it('rejects with the subscription\'s error after draining', async () => {
    const { options } = setup();
    const subscription = new FakeSubscription();
    const done = runPullWorker({ ...options, subscription }, new AbortController().signal);
    subscription.emit('error', new Error('NOT_FOUND: subscription does not exist'));
    await expect(done).rejects.toThrow(/subscription does not exist/);
  });
});
