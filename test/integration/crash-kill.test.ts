import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCli, stopAll, type Worker } from '../support/processes.js';
import { startS3RequestProxy, type ProxiedRequest, type S3RequestProxy } from '../support/s3-request-proxy.js';
import { adminS3, gcsClient, headS3, listMultipartUploads, readS3, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

/**
 * Crash safety: `gcs2s3 copy` of large objects (5 MiB parts) SIGKILLed at
 * seeded-random points, many times, and started again until it exits 0.
 * Every kill is triggered by the copy's own progress as S3 saw it (parts
 * stored for the key, counted by an HTTP proxy in front of MinIO), in three
 * bands: before or during the first parts, mid-body, near completion, each
 * with a random extra delay. Then every object must read back from S3 equal
 * to GCS (bytes, CRC32C, headers, custom metadata, provenance) with no
 * multipart upload left at its key. Replay a run with CRASH_SEED=<seed>.
 */

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let proxy: S3RequestProxy;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  proxy = await startS3RequestProxy(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL!);
});

afterAll(async () => {
  await stopAll();
  await proxy?.close();
  s3?.destroy();
});

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function childEnv(keyPrefix: string): Record<string, string | undefined> {
  return {
    ...process.env,
    ...stackEnv(),
    S3_KEY_PREFIX: keyPrefix,
    PART_SIZE_MIB: '5',
    PART_QUEUE_SIZE: '2',
    // Only S3 goes through the proxy; STS stays direct.
    AWS_ENDPOINT_URL_S3: proxy.url,
    AWS_ENDPOINT_URL_STS: env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL,
  };
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const forKey = (key: string) => (r: ProxiedRequest): boolean => new URL(r.url, 'http://p').pathname.endsWith(`/${key}`);
const isCreate = (r: ProxiedRequest): boolean => r.method === 'POST' && /[?&]uploads(=|&|$)/.test(r.url);
const storedParts = (requests: ProxiedRequest[]): Set<number> => new Set(requests.filter((r) => r.partNumber !== undefined && r.partNumber < 10_000 && r.status === 200).map((r) => r.partNumber!));

interface Big {
  name: string;
  key: string;
  bytes: Buffer;
  generation: string;
  crc32c: string;
  parts: number;
  url: string;
}

async function uploadBig(keyPrefix: string, label: string, size: number, metadata: Record<string, string>): Promise<Big> {
  const bytes = randomBytes(size);
  const name = `${uniquePrefix('crash-src')}${label}.bin`;
  const file = gcs.bucket(env.GCS_BUCKET!).file(name);
  await file.save(bytes, { resumable: false, validation: false, metadata: { contentType: 'application/x-crash-test', cacheControl: 'no-cache', metadata } });
  const [meta] = await file.getMetadata();
  const generation = String(meta.generation);
  return { name, key: keyPrefix + name, bytes, generation, crc32c: String(meta.crc32c), parts: Math.ceil(size / PART), url: `gs://${env.GCS_BUCKET}/${name}#${generation}` };
}

/** Runs until `trigger` holds (then, after `delayMs`, SIGKILL) or the process exits on its own. */
async function runAndKill(worker: Worker, trigger: () => boolean, delayMs: number): Promise<'killed' | 'exited'> {
  let exited = false;
  void worker.exited.then(() => (exited = true));
  while (!exited && !trigger()) await new Promise((r) => setTimeout(r, 10));
  if (!exited && delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (exited) return 'exited';
  worker.child.kill('SIGKILL');
  await worker.exited;
  return 'killed';
}

function outcomeLine(worker: Worker): Record<string, unknown> | undefined {
  return worker.lines.find((l) => typeof l.outcome === 'string' && l.via === 'copy');
}

describe('SIGKILLed large copies', () => {
  it('killed at random points many times and restarted, every object ends in S3 equal to GCS with no upload left', async () => {
    onTestFailed(() => console.error(`crash-kill: seed ${SEED} (replay with CRASH_SEED=${SEED})`));
    const random = seeded(SEED);
    const keyPrefix = uniquePrefix('crash');
    const sizes = [40 * MiB, 44 * MiB + 123_457, 52 * MiB - 1];
    const objects = await Promise.all(sizes.map((size, i) => uploadBig(keyPrefix, `big-${i}`, size, { owner: 'crash-test', index: String(i) })));

    proxy.delayMs = 40;
    const stats = { kills: 0, midUpload: 0, exitedBeforeKill: 0, resumedRuns: 0, finalResumedParts: 0, runs: 0 };
    const bands: Array<[number, number]> = [[0, 0.2], [0.2, 0.6], [0.6, 0.95], [0, 0.95]];
    // Every random choice is drawn up front, so the seed alone decides the plan whatever the timing.
    // 4 + 3 + 3 kills: ten in all, the first object's fourth anywhere in the body.
    const plans = objects.map((o, index) =>
      bands
        .slice(0, index === 0 ? 4 : 3)
        .map(([lo, hi]) => lo + (hi - lo) * random())
        .sort((a, b) => a - b)
        .map((f) => ({ threshold: Math.floor(f * o.parts), delayMs: Math.floor(random() * 150) })),
    );
    try {
      // The objects' kill-and-restart loops run at once: kills land while other copies are running.
      await Promise.all(objects.map(async (o, index) => {
        const mine = forKey(o.key);
        const runOnce = async (kill?: { threshold: number; delayMs: number }): Promise<Worker> => {
          const before = proxy.requests.length;
          const worker = startCli(['copy', o.url], childEnv(keyPrefix));
          stats.runs++;
          if (kill === undefined) await worker.exited;
          else {
            // Threshold 0: as soon as this run's first request for the key reached S3; else once
            // S3 holds that many of the object's parts, and at least one more than when it started.
            const atStart = storedParts(proxy.requests.filter(mine)).size;
            const trigger = (): boolean =>
              kill.threshold === 0 ? proxy.requests.slice(before).some(mine) : storedParts(proxy.requests.filter(mine)).size >= Math.max(kill.threshold, atStart + 1);
            const result = await runAndKill(worker, trigger, kill.delayMs);
            if (result === 'killed') {
              stats.kills++;
              // Mid-upload: this run had sent parts, and its upload is still in progress.
              const sentParts = proxy.requests.slice(before).some((r) => mine(r) && r.partNumber !== undefined && r.partNumber < 10_000);
              if (sentParts && (await listMultipartUploads(s3, env.S3_BUCKET!, o.key)).includes(o.key)) stats.midUpload++;
            } else stats.exitedBeforeKill++;
          }
          const run = proxy.requests.slice(before).filter(mine);
          // Parts sent by a run that created no upload: it continued the one a killed run left.
          if (storedParts(run).size > 0 && !run.some(isCreate)) stats.resumedRuns++;
          return worker;
        };
        for (const kill of plans[index]!) await runOnce(kill);
        let final: Worker | undefined;
        for (let attempt = 0; attempt < 3 && (await final?.exited) !== 0; attempt++) final = await runOnce();
        if ((await final!.exited) !== 0) console.error(final!.lines.map((l) => JSON.stringify(l)).join('\n'), final!.stderr.join(''));
        expect(await final!.exited).toBe(0);
        const resumed = outcomeLine(final!)?.resumedParts;
        if (typeof resumed === 'number') stats.finalResumedParts += resumed;
      }));
    } finally {
      proxy.delayMs = 0;
    }
    console.log(`crash-kill: seed ${SEED}: ${JSON.stringify(stats)}`);

    for (const o of objects) {
      const { bytes, out } = await readS3(s3, env.S3_BUCKET!, o.key);
      expect(bytes.length).toBe(o.bytes.length);
      expect(md5(bytes)).toBe(md5(o.bytes));
      expect(out.ChecksumCRC32C).toBe(o.crc32c);
      expect(out.ContentType).toBe('application/x-crash-test');
      expect(out.CacheControl).toBe('no-cache');
      expect(out.Metadata).toMatchObject({ owner: 'crash-test', index: o.name.match(/big-(\d)/)![1], 'gcs-generation': o.generation, 'gcs-bucket': env.GCS_BUCKET, 'gcs-crc32c': o.crc32c });
      expect(await listMultipartUploads(s3, env.S3_BUCKET!, o.key)).toEqual([]);
    }
    // Not vacuous: most kills left an upload in progress, and later runs continued them.
    expect(stats.kills + stats.exitedBeforeKill).toBe(10);
    expect(stats.kills).toBeGreaterThanOrEqual(8);
    expect(stats.midUpload).toBeGreaterThanOrEqual(stats.kills / 2);
    expect(stats.resumedRuns).toBeGreaterThanOrEqual(3);
  }, 240_000);
});

describe('an upload stranded by a kill, then the object changes in GCS', () => {
  async function strand(label: string): Promise<{ big: Big; keyPrefix: string }> {
    const keyPrefix = uniquePrefix(`crash-${label}`);
    const big = await uploadBig(keyPrefix, label, 20 * MiB, { owner: 'crash-test' });
    proxy.delayMs = 40;
    try {
      const worker = startCli(['copy', big.url], childEnv(keyPrefix));
      expect(await runAndKill(worker, () => storedParts(proxy.requests.filter(forKey(big.key))).size >= 2, 0)).toBe('killed');
    } finally {
      proxy.delayMs = 0;
    }
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, big.key)).toEqual([big.key]);
    return { big, keyPrefix };
  }

  it('deleted: handling the killed generation again (source missing) aborts the stranded upload and counts it', async () => {
    const { big, keyPrefix } = await strand('deleted');
    // verify counts it, as information: the exit status is about the objects (missing in S3: 1).
    const reportFile = join(await mkdtemp(join(tmpdir(), 'crash-verify-')), 'report.json');
    const verify = startCli(['verify', `gs://${env.GCS_BUCKET}/${big.name.slice(0, big.name.lastIndexOf('/') + 1)}`, '--report', reportFile], childEnv(keyPrefix));
    expect(await verify.exited).toBe(1);
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({ counts: { missingInS3: 1 }, uploadsInProgress: { count: 1, oldestInitiated: expect.any(String) } });
    await gcs.bucket(env.GCS_BUCKET!).file(big.name).delete();
    const again = startCli(['copy', big.url], childEnv(keyPrefix));
    expect(await again.exited).toBe(1);
    expect(outcomeLine(again)).toMatchObject({ outcome: 'skipped', reason: 'source-missing', strandedUploadsAborted: 1 });
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, big.key)).toEqual([]);
    expect(await headS3(s3, env.S3_BUCKET!, big.key)).toBeUndefined();
  }, 90_000);

  it('overwritten by a small object: the small copy (one PutObject) leaves it, the old generation\'s skip aborts it', async () => {
    const { big, keyPrefix } = await strand('overwritten');
    const small = Buffer.from('a small object replaced the big one');
    const file = gcs.bucket(env.GCS_BUCKET!).file(big.name);
    await file.save(small, { resumable: false, validation: false, metadata: { contentType: 'text/plain' } });
    const [meta] = await file.getMetadata();

    const copySmall = startCli(['copy', `gs://${env.GCS_BUCKET}/${big.name}`], childEnv(keyPrefix));
    expect(await copySmall.exited).toBe(0);
    expect(outcomeLine(copySmall)).toMatchObject({ outcome: 'copied', generation: String(meta.generation) });
    expect(outcomeLine(copySmall)?.strandedUploadsAborted).toBeUndefined();
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, big.key)).toEqual([big.key]);

    const old = startCli(['copy', big.url], childEnv(keyPrefix));
    expect(await old.exited).toBe(0);
    expect(outcomeLine(old)).toMatchObject({ outcome: 'skipped', reason: 'newer-at-destination', strandedUploadsAborted: 1 });
    expect(await listMultipartUploads(s3, env.S3_BUCKET!, big.key)).toEqual([]);
    const { bytes, out } = await readS3(s3, env.S3_BUCKET!, big.key);
    expect(bytes.equals(small)).toBe(true);
    expect(out.Metadata?.['gcs-generation']).toBe(String(meta.generation));
  }, 90_000);
});
