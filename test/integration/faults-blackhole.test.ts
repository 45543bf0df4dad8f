/**
 * The blackhole: an S3 endpoint that accepts connections and never answers
 * (Toxiproxy's timeout toxic with timeout 0). The CLI processes a user runs
 * must not wait for ever: `gcs2s3 copy` exits 1 at the deadline with one line
 * naming the endpoint; `gcs2s3 pull` nacks, the message comes back, and its
 * /healthz reports the process stuck while the stall outlasts
 * LIVENESS_TIMEOUT_SECONDS, then healthy once S3 answers and the copy lands.
 */
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectReplicated } from '../support/fault-worker.js';
import { startCli, stopAll } from '../support/processes.js';
import { createTestSubscription, pubsubClient } from '../support/pubsub.js';
import { adminS3, gcsClient, headS3, stackEnv, uniquePrefix, uploadToGcs, useStackEnv } from '../support/stack.js';
import { startToxiproxy, type Proxy, type Toxiproxy } from '../support/toxiproxy.js';

/** Ports of our own (faults-network.test.ts has 18474 and 18401-18404). */
const PORTS = { api: 18475, s3: 18411, health: 18412 };
/** Short deadlines, so the test is quick: 3 attempts of a 2 s stall, then the SDK gives up. */
const DEADLINES = { CONNECT_TIMEOUT_SECONDS: '1', STALL_TIMEOUT_SECONDS: '2' };

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let pubsub: PubSub;
let toxiproxy: Toxiproxy;
let blackhole: Proxy;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  pubsub = pubsubClient();
  toxiproxy = await startToxiproxy(PORTS.api);
  blackhole = await toxiproxy.createProxy('s3-blackhole', PORTS.s3, Number(new URL(env.AWS_ENDPOINT_URL_S3!).port));
});

afterAll(async () => {
  await stopAll();
  await toxiproxy?.close();
  await pubsub?.close();
  s3?.destroy();
});

function cliEnv(extra: Record<string, string>): Record<string, string | undefined> {
  return { ...process.env, ...stackEnv(), AWS_ENDPOINT_URL_S3: blackhole.url, ...DEADLINES, ...extra };
}

describe('an S3 endpoint that accepts connections and never answers', () => {
  it('gcs2s3 copy exits 1 at the deadline, with one line naming the S3 endpoint', async () => {
    const name = `${uniquePrefix('blackhole-copy')}hello.txt`;
    await uploadToGcs(gcs, env.GCS_BUCKET!, name, Buffer.from('never answered'));
    const toxic = await blackhole.addToxic({ type: 'timeout', stream: 'upstream', timeout: 0 });
    try {
      const started = Date.now();
      const copy = startCli(['copy', `gs://${env.GCS_BUCKET}/${name}`], cliEnv({}));
      const code = await copy.exited;
      const seconds = (Date.now() - started) / 1000;
      expect(code).toBe(1);
      // 3 attempts × 2 s, backoff under a second, and the process's own start.
      expect(seconds).toBeLessThan(20);
      const stderr = copy.stderr.join('');
      const named = stderr.split('\n').filter((l) => l.startsWith('gcs2s3 copy: '));
      expect(named).toHaveLength(1);
      expect(named[0]).toMatch(new RegExp(`^gcs2s3 copy: S3 HeadObject ${blackhole.url} s3://${env.S3_BUCKET}/\\S+: no progress for 2 s \\(3 attempts\\)$`));
    } finally {
      await blackhole.removeToxic(toxic);
    }
    expect(await headS3(s3, env.S3_BUCKET!, name)).toBeUndefined();
  });

  it('gcs2s3 pull nacks and gets the message again, /healthz turns 503 while stuck, and the copy lands once S3 answers', async () => {
    const prefix = uniquePrefix('blackhole-pull');
    const sub = await createTestSubscription(pubsub, env.PUBSUB_TOPIC!);
    const toxic = await blackhole.addToxic({ type: 'timeout', stream: 'upstream', timeout: 0 });
    const worker = startCli(['pull'], cliEnv({ PUBSUB_SUBSCRIPTION: sub.name, INCLUDE_PREFIXES: prefix, PORT: String(PORTS.health), LIVENESS_TIMEOUT_SECONDS: '1' }));
    try {
      await worker.waitFor((l) => l.message === 'pull worker started');
      expect(await healthz()).toBe(200);
      const name = `${prefix}stuck.bin`;
      const bytes = randomBytes(64 * 1024);
      const generation = await uploadToGcs(gcs, env.GCS_BUCKET!, name, bytes);
      // Each attempt stalls for 3 × 2 s; past 1 s of that, the process reports itself stuck.
      await until(async () => (await healthz()) === 503, 15_000);
      expect(worker.lines.some((l) => l.severity === 'ERROR' && /no progress for \d+ s with 1 copies in flight/.test(String(l.message)))).toBe(true);
      const about = (l: Record<string, unknown>) => l.object === `gs://${env.GCS_BUCKET}/${name}`;
      await until(async () => worker.lines.filter((l) => about(l) && l.outcome === 'failed').length >= 2, 30_000);
      const failure = worker.lines.find((l) => about(l) && l.outcome === 'failed')!;
      expect(failure).toMatchObject({ severity: 'WARNING', retryable: true });
      expect(String(failure.message)).toContain(`S3 HeadObject ${blackhole.url}`);
      await blackhole.removeToxic(toxic);
      await worker.waitFor((l) => about(l) && l.outcome === 'copied', 30_000);
      expect(await healthz()).toBe(200);
      await expectReplicated(s3, name, { bytes, generation });
    } finally {
      await blackhole.removeToxic(toxic).catch(() => undefined);
      expect(await worker.stop()).toBe(0);
      await sub.delete().catch(() => undefined);
    }
  });
});

async function healthz(): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${PORTS.health}/healthz`, { signal: AbortSignal.timeout(2000) });
  await res.text();
  return res.status;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
