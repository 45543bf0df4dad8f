/**
 * `rclone copy` from fake-gcs-server to MinIO, the comparison DESIGN.md §4
 * names. Configured entirely by flags: on-the-fly remotes `:gcs:` and `:s3:`,
 * `--config ""` (no config file is read or written). rclone has static keys
 * by nature; it gets MinIO's administrator login, for the comparison only.
 */
import { spawnSync } from 'node:child_process';
import { stackEnv } from './env.js';
import { runProcess, timed, type Finished } from './processes.js';

export const RCLONE_MISSING = 'rclone not installed: apt-get install rclone';

/** `rclone v1.60.1-DEV`, or undefined when rclone is not on PATH. */
export function rcloneVersion(): string | undefined {
  const out = spawnSync('rclone', ['version'], { encoding: 'utf8', timeout: 10_000 });
  if (out.error !== undefined || out.status !== 0) return undefined;
  return out.stdout.split('\n')[0]?.trim();
}

export interface RcloneCopyOptions {
  srcBucket: string;
  srcPrefix: string;
  dstBucket: string;
  dstPrefix: string;
  /** Extra flags, e.g. `--transfers 8`. */
  flags: string[];
  timeoutMs: number;
  label: string;
  /** S3 endpoint instead of the stack's (the WAN profile's proxy). */
  s3Endpoint?: string;
  /** Sample rclone's RSS every this many ms (Finished.rss). */
  rssSampleMs?: number;
}

/**
 * Flags that make rclone's multipart upload match ours: PART_SIZE_MIB parts
 * (rclone's default is 5 MiB), PART_QUEUE_SIZE parts in flight per object
 * (its default is 4), and multipart from one part up (its default cutoff is
 * 200 MiB, below which it sends one PutObject), as lib-storage does.
 */
export function rcloneMultipartFlags(partMiB: number, queue: number): string[] {
  return ['--s3-chunk-size', `${partMiB}Mi`, '--s3-upload-concurrency', String(queue), '--s3-upload-cutoff', `${partMiB}Mi`];
}

export async function rcloneCopy(options: RcloneCopyOptions): Promise<Finished> {
  const stack = stackEnv();
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Our environment's AWS_CA_BUNDLE makes rclone's AWS SDK refuse its HTTP
    // transport (LoadCustomCABundleError); nothing here is TLS. RCLONE_* would
    // override the flags below.
    if (v !== undefined && k !== 'AWS_CA_BUNDLE' && !k.startsWith('RCLONE_')) env[k] = v;
  }
  const args = [
    'copy',
    `:gcs:${options.srcBucket}/${options.srcPrefix}`,
    `:s3:${options.dstBucket}/${options.dstPrefix}`,
    '--config', '',
    '--gcs-endpoint', 'http://127.0.0.1:4443/storage/v1/',
    '--gcs-anonymous',
    '--s3-provider', 'Minio',
    '--s3-endpoint', options.s3Endpoint ?? stack.AWS_ENDPOINT_URL_S3 ?? 'http://127.0.0.1:9000',
    '--s3-region', stack.AWS_REGION ?? 'us-east-1',
    '--s3-access-key-id', stack.MINIO_ROOT_USER ?? 'minioadmin',
    '--s3-secret-access-key', stack.MINIO_ROOT_PASSWORD ?? 'minioadmin',
    '--s3-force-path-style',
    '--s3-no-check-bucket',
    ...options.flags,
  ];
  const [command, wrapped] = timed('rclone', args);
  return await runProcess(command, wrapped, { env, timeoutMs: options.timeoutMs, label: options.label, ...(options.rssSampleMs === undefined ? {} : { rssSampleMs: options.rssSampleMs }) });
}
