/**
 * Load over loopback: 500 authenticated pushes, 50 in flight, against
 * `gcs2s3 serve` running as its own process (so its peak RSS is its own),
 * the esbuild bundle the image ships (scripts/build.ts): under tsx the loader
 * alone adds ~50 MiB.
 * Asserts correctness and status codes: every object lands byte-identical,
 * every push ends in 204, nothing but deliberate 429s on the way (the client
 * retries those like Pub/Sub's push back-off). Memory is checked as a ratio
 * to DESIGN.md's bound, 96 MiB + MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE ×
 * PART_SIZE, with the shipped defaults; nothing here asserts a duration.
 *
 * Measured on the 2-core stack: the compiled CLI idles at ~105–117 MiB and
 * peaks at ~190–210 MiB here, almost all of it V8 heap (live data after GC
 * stays ~34 MiB): small objects never fill a part buffer, so the bound's part
 * term is unused and the peak is the 96 MiB base plus garbage between major
 * GCs. With PART_SIZE_MIB=5 and PART_QUEUE_SIZE=2 (bound 176 MiB) the same
 * run exceeds the bound unless node runs with --max-semi-space-size=2
 * (peak ~162 MiB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../scripts/build.js';
import { adminS3, gcsClient, readS3, ROOT, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

const REQUESTS = 500;
const IN_FLIGHT = 50;
// The defaults, spelled out so the bound below is evident.
const MAX_CONCURRENT_OBJECTS = 8;
const PART_QUEUE_SIZE = 4;
const PART_SIZE_MIB = 16;
const BOUND_MIB = 96 + MAX_CONCURRENT_OBJECTS * PART_QUEUE_SIZE * PART_SIZE_MIB;
/** Give up on the whole run after this long (the test's own bound, not a target). */
const RUN_DEADLINE_MS = 150_000;

/** Laid out like the image (package.json, dist/), inside node_modules so the bundle's external packages resolve. */
const BUILD_DIR = resolve(ROOT, `node_modules/.cache/gcs2s3-serve-load-${process.pid}`);

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let child: ChildProcess | undefined;

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  mkdirSync(BUILD_DIR, { recursive: true });
  copyFileSync(resolve(ROOT, 'package.json'), resolve(BUILD_DIR, 'package.json'));
  await buildBundle(resolve(BUILD_DIR, 'dist'));
});

afterAll(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(BUILD_DIR, { recursive: true, force: true });
  s3?.destroy();
});

/** `node <build>/dist/cli.js serve`, its JSON log lines (stderr) collected. */
function startServe(childEnv: Record<string, string | undefined>) {
  const proc = spawn(process.execPath, [resolve(BUILD_DIR, 'dist/cli.js'), 'serve'], { cwd: ROOT, env: { ...childEnv, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let buffer = '';
  // Logs are on stderr; lines that are not JSON are kept for the failure message.
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stderr.push(`${line}\n`);
      }
    }
  });
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const ready = new Promise<void>((done, fail) => {
    const timer = setInterval(() => {
      if (lines.some((l) => l.message === 'serving')) {
        clearInterval(timer);
        done();
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        fail(new Error(`serve exited ${proc.exitCode}: ${stderr.join('').slice(-2000)}`));
      }
    }, 50);
  });
  return { proc, lines, ready, exited };
}

interface Uploaded {
  name: string;
  generation: string;
  md5: string;
  envelope: string;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** Runs `fn` over `items` with at most `width` at once. */
async function pool<T, R>(items: T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) / 1024;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('gcs2s3 serve under load', () => {
  it(`copies ${REQUESTS} objects from ${REQUESTS} pushes with ${IN_FLIGHT} in flight, within the memory bound`, async () => {
    const prefix = uniquePrefix('serve-load');
    const bucket = gcs.bucket(env.GCS_BUCKET!);
    const objects = await pool(Array.from({ length: REQUESTS }, (_, i) => i), 25, async (i): Promise<Uploaded> => {
      const name = `${prefix}obj-${String(i).padStart(4, '0')}.bin`;
      const bytes = randomBytes(randomInt(1024, 16 * 1024));
      const file = bucket.file(name);
      await file.save(bytes, { resumable: false, validation: false });
      const [resource] = await file.getMetadata();
      const generation = String(resource.generation);
      const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: env.GCS_BUCKET, objectId: name, objectGeneration: generation };
      const data = Buffer.from(JSON.stringify(resource)).toString('base64');
      const envelope = JSON.stringify({ message: { data, attributes, messageId: `load-${i}`, publishTime: new Date().toISOString() }, subscription: 'projects/gcs2s3-local/subscriptions/load' });
      return { name, generation, md5: md5(bytes), envelope };
    });

    const port = await freePort();
    const worker = startServe({
      ...process.env,
      ...stackEnv(),
      PORT: String(port),
      INCLUDE_PREFIXES: prefix,
      MAX_CONCURRENT_OBJECTS: String(MAX_CONCURRENT_OBJECTS),
      PART_QUEUE_SIZE: String(PART_QUEUE_SIZE),
      PART_SIZE_MIB: String(PART_SIZE_MIB),
    });
    await worker.ready;
    const idleRssMiB = peakRssMiB(worker.proc.pid!);

    const tokenRes = await fetch(
      `http://${env.GCE_METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(env.PUSH_AUDIENCE!)}`,
      { headers: { 'Metadata-Flavor': 'Google' } },
    );
    const authorization = `Bearer ${await tokenRes.text()}`;
    const url = `http://127.0.0.1:${port}/pubsub/push`;

    const statusCounts: Record<string, number> = {};
    const started = performance.now();
    const deadline = Date.now() + RUN_DEADLINE_MS;
    const finals = await pool(objects, IN_FLIGHT, async (object) => {
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) throw new Error('load run exceeded its deadline');
        const res = await fetch(url, { method: 'POST', body: object.envelope, headers: { authorization, 'content-type': 'application/json' } });
        await res.arrayBuffer();
        statusCounts[res.status] = (statusCounts[res.status] ?? 0) + 1;
        if (res.status !== 429) return res.status;
        // Pub/Sub backs off exponentially on push failures (from 100 ms); a
        // jittered exponential pause, capped at 1 s, stands in for it.
        await new Promise((r) => setTimeout(r, randomInt(25, 50 * 2 ** Math.min(attempt, 4) + 26)));
      }
    });
    const durationMs = performance.now() - started;
    const peakMiB = peakRssMiB(worker.proc.pid!);
    worker.proc.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    const wrong = await pool(objects, 25, async (object) => {
      const { bytes, out } = await readS3(s3, env.S3_BUCKET!, object.name);
      return md5(bytes) === object.md5 && out.Metadata?.['gcs-generation'] === object.generation ? undefined : object.name;
    });

    const report = {
      requests: REQUESTS,
      inFlight: IN_FLIGHT,
      attempts: Object.values(statusCounts).reduce((a, b) => a + b, 0),
      statusCounts,
      durationMs: Math.round(durationMs),
      pushesPerSecond: Number((REQUESTS / (durationMs / 1000)).toFixed(1)),
      idleRssMiB: Number(idleRssMiB.toFixed(1)),
      peakRssMiB: Number(peakMiB.toFixed(1)),
      boundMiB: BOUND_MIB,
      ratioToBound: Number((peakMiB / BOUND_MIB).toFixed(2)),
    };
    console.info(`serve load: ${JSON.stringify(report)}`);

    expect(finals.every((s) => s === 204)).toBe(true);
    expect(Object.keys(statusCounts).filter((s) => s !== '204' && s !== '429')).toEqual([]);
    expect(wrong.filter((n) => n !== undefined)).toEqual([]);
    expect(worker.lines.filter((l) => l.outcome === 'copied')).toHaveLength(REQUESTS);
    expect(peakMiB / BOUND_MIB).toBeLessThanOrEqual(1);
  }, 240_000);
});

