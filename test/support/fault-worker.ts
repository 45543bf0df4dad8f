import type { S3Client } from '@aws-sdk/client-s3';
import type { PubSub, Subscription, Topic } from '@google-cloud/pubsub';
import { expect } from 'vitest';
import { eventPolicyFromConfig } from '../../src/events/types.js';
import { createLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { EventPipeline } from '../../src/pipeline/event-pipeline.js';
import { runPullWorker, type MessageSource } from '../../src/pull/pull-worker.js';
import { createTestSubscription, createTestTopic } from './pubsub.js';
import { listMultipartUploads, readS3, stackConfig, stackEnv } from './stack.js';

export type LogLine = Record<string, unknown>;

/** The real pull worker, in this process, on a topic and subscription of its own. */
export interface FaultWorker {
  lines: LogLine[];
  /** Publishes the OBJECT_FINALIZE notification GCS would send for `name` at `generation`. */
  notify(name: string, generation: string): Promise<void>;
  /** The first log line that matches, waiting up to `timeoutMs`. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Outcome lines (copied, failed…) about `name`. */
  outcomes(name: string): LogLine[];
  stop(): Promise<void>;
}

/**
 * Starts a pull worker configured by the stack's variables plus `overrides`
 * (endpoints through a proxy, short deadlines). Pub/Sub redelivers what it
 * nacks, as in production.
 */
export async function startFaultWorker(pubsub: PubSub, overrides: Record<string, string>): Promise<FaultWorker> {
  const topic: Topic = await createTestTopic(pubsub);
  const subscription: Subscription = await createTestSubscription(pubsub, topic);
  const config = stackConfig(overrides, 'pull');
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as LogLine) });
  const runtime = buildRuntime(config, logger);
  const controller = new AbortController();
  const pipeline = new EventPipeline({ deps: runtime.deps, logger, livenessMs: config.network.livenessTimeoutMs });
  const done = runPullWorker({ subscription: subscription as unknown as MessageSource, pipeline, policy: eventPolicyFromConfig(config), logger }, controller.signal);
  const bucket = stackEnv().GCS_BUCKET!;
  const about = (name: string) => (l: LogLine) => l.object === `gs://${bucket}/${name}` && l.outcome !== undefined;
  return {
    lines,
    async notify(name, generation) {
      const now = new Date().toISOString();
      await topic.publishMessage({
        data: Buffer.from(JSON.stringify({ kind: 'storage#object', bucket, name, generation, timeCreated: now })),
        attributes: { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: bucket, objectId: name, objectGeneration: generation, eventTime: now },
      });
    },
    waitFor: (match, timeoutMs = 30_000) => waitForLine(lines, match, timeoutMs),
    outcomes: (name) => lines.filter(about(name)),
    async stop() {
      controller.abort();
      await done;
      runtime.close();
      await subscription.delete().catch(() => undefined);
      await topic.delete().catch(() => undefined);
    },
  };
}

export async function waitForLine(lines: LogLine[], match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      const tail = lines.slice(-8).map((l) => `${String(l.severity)} ${String(l.message)}`);
      throw new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${tail.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a user checks after a fault: S3 holds exactly these bytes at `key`,
 * with the object's headers and provenance, and no multipart upload of it is
 * left behind.
 */
export async function expectReplicated(s3: S3Client, key: string, expected: { bytes: Buffer; generation: string; contentType?: string; metadata?: Record<string, string> }): Promise<void> {
  const env = stackEnv();
  const { bytes, out } = await readS3(s3, env.S3_BUCKET!, key);
  expect(bytes.equals(expected.bytes), `bytes of s3://${env.S3_BUCKET}/${key}`).toBe(true);
  if (expected.contentType !== undefined) expect(out.ContentType).toBe(expected.contentType);
  expect(out.Metadata).toMatchObject({ 'gcs-bucket': env.GCS_BUCKET, 'gcs-generation': expected.generation, ...expected.metadata });
  expect(await listMultipartUploads(s3, env.S3_BUCKET!, key)).toEqual([]);
}
