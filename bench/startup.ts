/**
 * Start-up and per-process cost: `gcs2s3 copy` of one 4 KiB object as a
 * whole process, the way a user or a job runs it, against `rclone copy` of
 * the same object. Two gcs2s3 variants: Node's module compile cache off
 * (NODE_DISABLE_COMPILE_CACHE=1) and on, warmed by a first run into its own
 * directory (what a second run on the same machine or image sees).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcs2s3Cli } from './support/build.js';
import { deferCleanup } from './support/cleanup.js';
import { childEnv, median, stackEnv, uniquePrefix } from './support/env.js';
import { removeBenchObjects, uploadSmallObject } from './support/objects.js';
import { runProcess, withExitReport } from './support/processes.js';
import { rcloneCopy, rcloneVersion } from './support/rclone.js';
import { randomBytes } from 'node:crypto';

export interface StartupRun {
  label: string;
  seconds: number;
  cpuSeconds?: number;
  peakRssMiB?: number;
}

export interface StartupResult {
  rounds: number;
  runs: StartupRun[];
}

export async function runStartup(options: { rounds: number; log: (line: string) => void }): Promise<StartupResult> {
  const env = stackEnv();
  const bucket = env.GCS_BUCKET!;
  const dest = env.S3_BUCKET!;
  const prefix = uniquePrefix('startup');
  const cache = mkdtempSync(join(tmpdir(), 'gcs2s3-bench-compile-cache-'));
  const cleanup = deferCleanup(async () => {
    rmSync(cache, { recursive: true, force: true });
    await removeBenchObjects(bucket, dest, prefix, options.log);
  });
  try {
    const dir = `${prefix}src`;
    await uploadSmallObject(bucket, `${dir}/object.bin`, randomBytes(4096));
    const variants: Array<[string, Record<string, string>]> = [
      ['gcs2s3 copy, compile cache off', { NODE_DISABLE_COMPILE_CACHE: '1' }],
      ['gcs2s3 copy, compile cache warm', { NODE_COMPILE_CACHE: cache }],
    ];
    const raw = new Map<string, Array<{ seconds: number; cpu?: number; peak?: number }>>();
    const push = (label: string, r: { wallSeconds: number; cpuSeconds?: number; peakRssMiB?: number }): void =>
      void raw.set(label, [...(raw.get(label) ?? []), { seconds: r.wallSeconds, ...(r.cpuSeconds === undefined ? {} : { cpu: r.cpuSeconds }), ...(r.peakRssMiB === undefined ? {} : { peak: r.peakRssMiB }) }]);
    const copy = (round: number, label: string, extra: Record<string, string>) =>
      runProcess(process.execPath, [...withExitReport(), gcs2s3Cli(), 'copy', `gs://${bucket}/${dir}/object.bin`], {
        env: childEnv({ ...extra, S3_KEY_PREFIX: `${prefix}r${round}-${label.length}/`, LOG_LEVEL: 'warn' }, { keepStorageHost: true }),
        timeoutMs: 120_000,
        label,
      });
    // Warm the cache (and the OS's file cache) once, unmeasured.
    await copy(0, 'warm-up', { NODE_COMPILE_CACHE: cache });
    const rclone = rcloneVersion();
    for (let round = 1; round <= options.rounds; round++) {
      for (const [label, extra] of variants) push(label, await copy(round, label, extra));
      if (rclone !== undefined) {
        push('rclone copy', await rcloneCopy({ srcBucket: bucket, srcPrefix: dir, dstBucket: dest, dstPrefix: `${prefix}rclone-r${round}`, flags: [], timeoutMs: 120_000, label: 'rclone copy (start-up)' }));
      }
    }
    return {
      rounds: options.rounds,
      runs: [...raw.entries()].map(([label, list]) => {
        const cpus = list.flatMap((r) => (r.cpu === undefined ? [] : [r.cpu]));
        const peaks = list.flatMap((r) => (r.peak === undefined ? [] : [r.peak]));
        return { label, seconds: median(list.map((r) => r.seconds)), ...(cpus.length ? { cpuSeconds: median(cpus) } : {}), ...(peaks.length ? { peakRssMiB: Math.max(...peaks) } : {}) };
      }),
    };
  } finally {
    await cleanup();
  }
}

export function describeStartup(r: StartupResult): string[] {
  return [
    `start-up: one 4 KiB object, whole process (${r.rounds} rounds, medians):`,
    ...r.runs.map((x) => `  ${x.label.padEnd(33)} ${x.seconds.toFixed(3)} s  CPU ${x.cpuSeconds?.toFixed(3) ?? '–'} s  peak RSS ${x.peakRssMiB?.toFixed(0) ?? '–'} MiB`),
  ];
}
