/**
 * Event latency (DESIGN.md §4), through the real path: upload to
 * fake-gcs-server → its OBJECT_FINALIZE notification → the Pub/Sub emulator →
 * `gcs2s3 pull` (the bundled CLI, its own subscription, INCLUDE_PREFIXES set to
 * this run's prefix) → MinIO.
 *
 * Objects are uploaded at a steady rate. Two measures per object:
 *   visible     from the upload's response to the poll that first lists the
 *               key in S3 (one ListObjectsV2 of the prefix every 20 ms: one
 *               request per tick instead of a HEAD per object in flight);
 *               each key is then HEADed once to check it holds the uploaded
 *               generation (names are unique, so it can hold no other);
 *   lagSeconds  the worker's own log field: copy done − GCS timeCreated.
 *
 *   npx tsx bench/event-latency.ts [count, default 200] [per second, default 20]
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { buildBench, gcs2s3Cli } from './support/build.js';
import { deferCleanup, exitOnSignal } from './support/cleanup.js';
import { childEnv, quantile, sleep, stackEnv, uniquePrefix } from './support/env.js';
import { adminS3, listS3Keys, removeBenchObjects, s3Generation, uploadSmallObject } from './support/objects.js';
import { startProcess, stopAllChildren, withExitReport } from './support/processes.js';
import { ensureStack } from './support/stack.js';

export interface LatencyResult {
  count: number;
  perSecond: number;
  visible: { p50: number; p99: number; max: number };
  lag?: { p50: number; p99: number; max: number; lines: number };
  wrongGeneration: number;
  neverVisible: number;
  workerPeakRssMiB?: number;
}

const PUBSUB = 'http://127.0.0.1:8085/v1';
const POLL_MS = 20;
const VISIBLE_TIMEOUT_MS = 120_000;

async function pubsub(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${PUBSUB}/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`Pub/Sub ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

export async function runEventLatency(options: { count: number; perSecond: number; log: (line: string) => void }): Promise<LatencyResult> {
  const env = stackEnv();
  const bucket = env.GCS_BUCKET!;
  const dest = env.S3_BUCKET!;
  const prefix = uniquePrefix('latency');
  const subscription = `projects/${env.GOOGLE_CLOUD_PROJECT}/subscriptions/${prefix.slice(0, -1)}`;
  const s3 = adminS3();
  const cleanup = deferCleanup(async () => {
    await pubsub('DELETE', subscription).catch((err: unknown) => options.log(`deleting ${subscription}: ${String(err)}`));
    await removeBenchObjects(bucket, dest, prefix, options.log);
  });
  await pubsub('PUT', subscription, { topic: env.PUBSUB_TOPIC, ackDeadlineSeconds: 60 });
  const worker = startProcess(process.execPath, [...withExitReport(), gcs2s3Cli(), 'pull'], {
    env: childEnv({ PUBSUB_SUBSCRIPTION: subscription, INCLUDE_PREFIXES: prefix, LOG_LEVEL: 'info' }, { keepStorageHost: true }),
    timeoutMs: 600_000,
    label: 'gcs2s3 pull',
  });
  const polling = new AbortController();
  try {
    await worker.waitForLine((l) => l.includes('pull worker started'), 60_000);
    // Warm-up (excluded): STS, sockets, the subscription's stream.
    const warm = await Promise.all([0, 1, 2].map((i) => uploadSmallObject(bucket, `${prefix}warmup-${i}.bin`, randomBytes(4096))));
    const warmDeadline = Date.now() + 60_000;
    while ((await listS3Keys(s3, dest, `${prefix}warmup-`)).length < warm.length) {
      if (Date.now() > warmDeadline) throw new Error(`warm-up objects not in S3 after 60 s; worker stderr: ${worker.lines.slice(-5).join('\n')}`);
      await sleep(100);
    }

    options.log(`event latency: ${options.count} objects at ${options.perSecond}/s through gcs2s3 pull`);
    const uploadedAt = new Map<string, number>();
    const generation = new Map<string, string>();
    const seenAt = new Map<string, number>();
    const poller = (async () => {
      while (!polling.signal.aborted) {
        const tick = performance.now();
        try {
          for (const key of await listS3Keys(s3, dest, `${prefix}obj-`, polling.signal)) if (!seenAt.has(key)) seenAt.set(key, performance.now());
        } catch (err) {
          if (!polling.signal.aborted) throw err;
        }
        await sleep(Math.max(0, POLL_MS - (performance.now() - tick)));
      }
    })();
    const interval = 1000 / options.perSecond;
    const started = performance.now();
    const uploads: Array<Promise<void>> = [];
    for (let i = 0; i < options.count; i++) {
      await sleep(Math.max(0, started + i * interval - performance.now()));
      const name = `${prefix}obj-${String(i).padStart(5, '0')}.bin`;
      uploads.push(
        uploadSmallObject(bucket, name, randomBytes(4096)).then((g) => {
          uploadedAt.set(name, performance.now());
          generation.set(name, g);
        }),
      );
    }
    await Promise.all(uploads);
    const deadline = Date.now() + VISIBLE_TIMEOUT_MS;
    while (seenAt.size < options.count && Date.now() < deadline) await sleep(100);
    polling.abort();
    await poller;

    const visible: number[] = [];
    let wrongGeneration = 0;
    for (const [name, t] of uploadedAt) {
      const seen = seenAt.get(name);
      if (seen === undefined) continue;
      visible.push(Math.max(0, seen - t) / 1000);
      if ((await s3Generation(s3, dest, name)) !== generation.get(name)) wrongGeneration++;
    }
    const lags: number[] = [];
    for (const line of worker.lines) {
      if (!line.includes(`${prefix}obj-`)) continue;
      const entry = JSON.parse(line) as { outcome?: string; lagSeconds?: number };
      if (entry.outcome === 'copied' && typeof entry.lagSeconds === 'number') lags.push(entry.lagSeconds);
    }
    const stats = (v: number[]) => ({ p50: quantile(v, 0.5), p99: quantile(v, 0.99), max: Math.max(...v) });
    const stopped = await worker.stop();
    return {
      count: options.count,
      perSecond: options.perSecond,
      visible: visible.length ? stats(visible) : { p50: NaN, p99: NaN, max: NaN },
      ...(lags.length ? { lag: { ...stats(lags), lines: lags.length } } : {}),
      wrongGeneration,
      neverVisible: options.count - visible.length,
      ...(stopped.peakRssMiB === undefined ? {} : { workerPeakRssMiB: stopped.peakRssMiB }),
    };
  } finally {
    polling.abort();
    await worker.stop().catch(() => undefined);
    await cleanup();
    s3.destroy();
  }
}

export function describeLatency(r: LatencyResult): string[] {
  const s = (x: { p50: number; p99: number; max: number }): string => `p50 ${(x.p50 * 1000).toFixed(0)} ms, p99 ${(x.p99 * 1000).toFixed(0)} ms, max ${(x.max * 1000).toFixed(0)} ms`;
  return [
    `${r.count} objects of 4 KiB at ${r.perSecond}/s through gcs2s3 pull:`,
    `  upload response → listed in S3 (poll ${POLL_MS} ms): ${s(r.visible)}`,
    `  worker lagSeconds (copy done − timeCreated):    ${r.lag ? `${s(r.lag)} (${r.lag.lines} lines)` : 'no lines'}`,
    `  never visible: ${r.neverVisible}; wrong generation in S3: ${r.wrongGeneration}` +
      (r.workerPeakRssMiB === undefined ? '' : `; worker peak RSS ${r.workerPeakRssMiB.toFixed(0)} MiB`),
  ];
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 200);
  const perSecond = Number(process.argv[3] ?? 20);
  const log = (line: string): void => console.error(line);
  exitOnSignal(log);
  try {
    ensureStack();
    await buildBench(log);
    console.log(describeLatency(await runEventLatency({ count, perSecond, log })).join('\n'));
  } finally {
    stopAllChildren();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
