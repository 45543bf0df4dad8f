import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { sleep, type Prng } from './prng.js';

/** Marks the copies we publish, so the tap never copies a copy. */
const COPY_ATTRIBUTE = 'soakCopyOf';

export interface DuplicateTally {
  /** Real notifications the tap saw (for the soak's prefix). */
  seen: number;
  /** Extra copies published, out of order. */
  published: number;
}

interface Notification {
  data: Buffer;
  attributes: Record<string, string>;
  id: string;
}

export interface Duplicator {
  /** Publishes copies of random recent notifications, shuffled, until `signal` aborts. */
  run(rng: Prng, meanGapMs: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * A tap: a subscription of its own on the notification topic keeps the last
 * notifications about `prefix`; copies of them are published again to the
 * topic later, shuffled, as Pub/Sub's at-least-once, unordered delivery may.
 */
export async function startDuplicator(pubsub: PubSub, topicName: string, prefix: string, tally: DuplicateTally): Promise<Duplicator> {
  const topic = pubsub.topic(topicName);
  const [tap]: [Subscription, ...unknown[]] = await topic.createSubscription(`soak-tap-${Date.now().toString(36)}`, { ackDeadlineSeconds: 30 });
  const recent: Notification[] = [];
  tap.on('message', (m: Message) => {
    m.ack();
    if (m.attributes[COPY_ATTRIBUTE] !== undefined || !(m.attributes.objectId ?? '').startsWith(prefix)) return;
    tally.seen++;
    recent.push({ data: m.data, attributes: m.attributes, id: m.id });
    if (recent.length > 400) recent.shift();
  });
  tap.on('error', () => undefined); // A tap that stops only means fewer copies.
  return {
    async run(rng, meanGapMs, signal) {
      while (!signal.aborted) {
        await sleep(rng.between(0.3, 1.7) * meanGapMs, signal);
        if (signal.aborted || recent.length === 0) continue;
        const batch = Array.from({ length: rng.int(1, 6) }, () => recent[rng.int(0, recent.length - 1)]!);
        for (const n of rng.shuffle(batch)) {
          await topic.publishMessage({ data: n.data, attributes: { ...n.attributes, [COPY_ATTRIBUTE]: n.id } }).then(
            () => void tally.published++,
            () => undefined,
          );
        }
      }
    },
    async close() {
      await tap.close().catch(() => undefined);
      await tap.delete().catch(() => undefined);
    },
  };
}
