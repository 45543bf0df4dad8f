import { randomUUID } from 'node:crypto';
import { PubSub, type Subscription, type Topic } from '@google-cloud/pubsub';
import { stackEnv } from './stack.js';

/** Pub/Sub emulator client; PUBSUB_EMULATOR_HOST must be in process.env (useStackEnv). */
export function pubsubClient(): PubSub {
  return new PubSub({ projectId: stackEnv().GOOGLE_CLOUD_PROJECT });
}

/**
 * A subscription of a test's own on a topic (the emulator ignores subscription
 * filters, so workers also get INCLUDE_PREFIXES). Delete it in afterAll.
 */
export async function createTestSubscription(pubsub: PubSub, topic: string | Topic, ackDeadlineSeconds = 10): Promise<Subscription> {
  const t = typeof topic === 'string' ? pubsub.topic(topic) : topic;
  const [sub] = await t.createSubscription(`test-${randomUUID().slice(0, 8)}`, { ackDeadlineSeconds });
  return sub;
}

export async function createTestTopic(pubsub: PubSub): Promise<Topic> {
  const [topic] = await pubsub.createTopic(`test-${randomUUID().slice(0, 8)}`);
  return topic;
}
