/**
 * Small objects and STS (DESIGN.md §4): objects/s copying 2,000 objects of
 * 4 KiB, each run into its own S3 prefix, all from the same GCS objects:
 *
 *   replicateObject × N   listing + the real replicateObject, MAX_CONCURRENT_OBJECTS
 *                         at a time (p-limit), STS calls counted (must be 1)
 *   gcs2s3 backfill       the bundled CLI, whole process (list both sides, copy)
 *   rclone copy           --transfers 8 (our concurrency), and rclone's defaults
 *
 * Timings of the two CLIs are whole-process wall times (start-up included for
 * both); the in-process run starts its clock at the first list call.
 *
 *   npx tsx bench/small-objects.ts [count, default 2000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicateManyResult } from './children/replicate-many.js';
import { buildBench, compiled, gcs2s3Cli } from './support/build.js';
import { describeProfile, summarizeProfiles, type CpuShare } from './support/cpu-profile.js';
import { deferCleanup, exitOnSignal } from './support/cleanup.js';
import { childEnv, stackEnv, uniquePrefix } from './support/env.js';
import { adminS3, deleteGcsPrefix, deleteS3Prefix, removeBenchObjects, listS3Keys, seedSmallObjects } from './support/objects.js';
import { runJsonChild, runProcess, stopAllChildren, withExitReport } from './support/processes.js';
import { RCLONE_MISSING, rcloneCopy, rcloneVersion } from './support/rclone.js';
import { ensureStack } from './support/stack.js';

export interface SmallRun {
  label: string;
  seconds: number;
  objectsPerSecond: number;
  /** Objects found under the run's S3 prefix afterwards. */
  inS3: number;
  peakRssMiB?: number;
  cpuSeconds?: number;
}

export interface SmallObjectResult {
  count: number;
  sizeBytes: number;
  seedSeconds: number;
  inProcess: SmallRun & { stsCalls: number; failed: number; failures: string[]; concurrency: number };
  backfill: SmallRun;
  rclone: SmallRun[];
  rcloneSkipped?: string;
  /** One more, untimed, `gcs2s3 backfill` under --cpu-prof (with `profile`): self time by package. */
  profile?: CpuShare[];
}

const TIMEOUT_MS = 600_000;

export async function runSmallObjects(options: { count: number; sizeBytes: number; profile?: boolean; log: (line: string) => void }): Promise<SmallObjectResult> {
  const env = stackEnv();
  const bucket = env.GCS_BUCKET!;
  const dest = env.S3_BUCKET!;
  const prefix = uniquePrefix('small');
  const src = `${prefix}src/`;
  const s3 = adminS3();
  const cleanup = deferCleanup(() => removeBenchObjects(bucket, dest, prefix, options.log));
  const rclone = rcloneVersion();
  const count = async (keyPrefix: string): Promise<number> => (await listS3Keys(s3, dest, keyPrefix)).length;
  try {
    options.log(`small objects: uploading ${options.count} objects of ${options.sizeBytes} bytes to gs://${bucket}/${src}`);
    const t0 = performance.now();
    await seedSmallObjects(bucket, src, options.count, options.sizeBytes);
    const seedSeconds = (performance.now() - t0) / 1000;

    options.log('small objects: replicateObject × N (p-limit), STS calls counted');
    const many = await runJsonChild<ReplicateManyResult>('replicate-many', [bucket, src, `${prefix}inproc/`], {
      env: childEnv(),
      timeoutMs: TIMEOUT_MS,
      label: 'replicate-many',
    });
    const inProcess = {
      label: `replicateObject × ${many.objects}, p-limit(${many.concurrency})`,
      seconds: many.seconds,
      objectsPerSecond: many.objects / many.seconds,
      inS3: await count(`${prefix}inproc/`),
      peakRssMiB: many.peakRssMiB,
      stsCalls: many.stsCalls,
      failed: many.failed,
      failures: many.failures,
      concurrency: many.concurrency,
    };

    options.log('small objects: gcs2s3 backfill');
    const cli = await runProcess(process.execPath, [...withExitReport(), gcs2s3Cli(), 'backfill', `gs://${bucket}/${src}`], {
      env: childEnv({ S3_KEY_PREFIX: `${prefix}backfill/` }, { keepStorageHost: true }),
      timeoutMs: TIMEOUT_MS,
      label: 'gcs2s3 backfill',
    });
    const backfill: SmallRun = {
      label: `gcs2s3 backfill (concurrency ${many.concurrency})`,
      seconds: cli.wallSeconds,
      objectsPerSecond: options.count / cli.wallSeconds,
      inS3: await count(`${prefix}backfill/`),
      ...(cli.peakRssMiB === undefined ? {} : { peakRssMiB: cli.peakRssMiB, cpuSeconds: cli.cpuSeconds }),
    };

    const rcloneRuns: SmallRun[] = [];
    if (rclone === undefined) options.log(`${RCLONE_MISSING} (skipping the rclone comparison)`);
    else {
      for (const [label, flags] of [
        [`rclone copy --transfers ${many.concurrency} --checkers 16`, ['--transfers', String(many.concurrency), '--checkers', '16']],
        ['rclone copy (defaults: --transfers 4 --checkers 8)', []],
      ] as const) {
        const dst = `${prefix}rclone-${rcloneRuns.length + 1}`;
        options.log(`small objects: ${label}`);
        const rc = await rcloneCopy({ srcBucket: bucket, srcPrefix: src.slice(0, -1), dstBucket: dest, dstPrefix: dst, flags: [...flags], timeoutMs: TIMEOUT_MS, label });
        rcloneRuns.push({
          label,
          seconds: rc.wallSeconds,
          objectsPerSecond: options.count / rc.wallSeconds,
          inS3: await count(`${dst}/`),
          ...(rc.peakRssMiB === undefined ? {} : { peakRssMiB: rc.peakRssMiB, cpuSeconds: rc.cpuSeconds }),
        });
      }
    }
    const profile = options.profile === true ? await profileBackfill(bucket, src, `${prefix}profile/`, options.log) : undefined;
    return {
      count: options.count,
      sizeBytes: options.sizeBytes,
      seedSeconds,
      ...(profile === undefined ? {} : { profile }),
      inProcess,
      backfill,
      rclone: rcloneRuns,
      ...(rclone === undefined ? { rcloneSkipped: RCLONE_MISSING } : {}),
    };
  } finally {
    await cleanup();
    s3.destroy();
  }
}

/** One `gcs2s3 backfill` of the same objects under --cpu-prof, untimed: where the per-object CPU goes. */
async function profileBackfill(bucket: string, src: string, keyPrefix: string, log: (line: string) => void): Promise<CpuShare[]> {
  log('small objects: profiling one gcs2s3 backfill (node --cpu-prof)');
  const dir = mkdtempSync(join(tmpdir(), 'gcs2s3-bench-prof-'));
  try {
    // tsc's per-file output, not the bundle: the account by package needs node_modules paths in the profile.
    await runProcess(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, compiled('src/cli.ts'), 'backfill', `gs://${bucket}/${src}`], {
      env: childEnv({ S3_KEY_PREFIX: keyPrefix }, { keepStorageHost: true }),
      timeoutMs: TIMEOUT_MS,
      label: 'profile gcs2s3 backfill',
    });
    return summarizeProfiles(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeSmallObjects(r: SmallObjectResult): string[] {
  const row = (run: SmallRun): string =>
    `  ${run.label.padEnd(52)} ${run.objectsPerSecond.toFixed(0).padStart(5)} objects/s  ${run.seconds.toFixed(2).padStart(6)} s  ${run.inS3} in S3` +
    (run.peakRssMiB === undefined ? '' : `  peak RSS ${run.peakRssMiB.toFixed(0)} MiB`) +
    (run.cpuSeconds === undefined ? '' : `  CPU ${run.cpuSeconds.toFixed(1)} s`);
  return [
    `${r.count} objects of ${r.sizeBytes} bytes (seeded in ${r.seedSeconds.toFixed(1)} s):`,
    row(r.inProcess),
    `    STS AssumeRoleWithWebIdentity calls: ${r.inProcess.stsCalls}; failed copies: ${r.inProcess.failed}${r.inProcess.failures.length ? ` (${r.inProcess.failures.join('; ')})` : ''}`,
    row(r.backfill),
    ...r.rclone.map(row),
    ...(r.rcloneSkipped === undefined ? [] : [`  ${r.rcloneSkipped}`]),
    ...(r.profile === undefined ? [] : describeProfile(`  CPU profile, gcs2s3 backfill of the ${r.count} objects (untimed, whole process, per-file build), self time by package:`, r.profile).map((l, i) => (i === 0 ? l : `  ${l}`))),
  ];
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const log = (line: string): void => console.error(line);
  exitOnSignal(log);
  try {
    ensureStack();
    await buildBench(log);
    console.log(describeSmallObjects(await runSmallObjects({ count, sizeBytes: 4096, log })).join('\n'));
  } finally {
    stopAllChildren();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
