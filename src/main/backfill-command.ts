import { setMaxListeners } from 'node:events';
import { runBackfill, type BackfillResult } from '../backfill/run-backfill.js';
import { startProgress } from '../backfill/progress.js';
import { checkReportPath, writeReport } from '../backfill/report.js';
import { parseShard, type Shard } from '../backfill/shard.js';
import { createTally } from '../backfill/tally.js';
import { parseConfig, type Config } from '../config/config.js';
import { parseInteger } from '../config/validators.js';
import { ConfigError } from '../errors.js';
import { replicateObject } from '../replicate/replicate-object.js';
import { GcsLister } from '../source/gcs-lister.js';
import type { ReplicateDeps } from '../replicate/replicate-object.js';
import { instanceIdFrom, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { parsePrefixUrl } from './gs-url.js';
import { logOutcome } from '../pipeline/log-outcome.js';
import { startObservability } from './observability.js';
import { buildRuntime } from './runtime.js';

/** What `backfill` and `verify` are asked to do, from their command lines. Pure. */
export interface PrefixCommandArgs {
  bucket: string;
  prefix: string;
  dryRun: boolean;
  /** --concurrency; undefined means the command's default. */
  concurrency?: number;
  /** --report FILE. */
  reportFile?: string;
}

export function parsePrefixCommandArgs(args: string[], options: { dryRun: boolean }): PrefixCommandArgs {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      concurrency: { type: 'string' },
      report: { type: 'string' },
      ...(options.dryRun ? { 'dry-run': { type: 'boolean' as const } } : {}),
    },
    1,
  );
  const { bucket, prefix } = parsePrefixUrl(positionals[0]!, 'gs:// URL');
  const raw = values as { concurrency?: string; report?: string; 'dry-run'?: boolean };
  if (raw.report !== undefined && raw.report.trim() === '') throw new ConfigError('--report', 'needs a file name');
  return {
    bucket,
    prefix,
    dryRun: raw['dry-run'] === true,
    concurrency: raw.concurrency === undefined ? undefined : parseInteger('--concurrency', raw.concurrency, 1, 1, 1000),
    reportFile: raw.report,
  };
}

/** Config with the transfer pool sized for `concurrency` (sockets follow it: see buildRuntime). */
export function withConcurrency(config: Config, concurrency: number): Config {
  return { ...config, transfer: { ...config.transfer, maxConcurrentObjects: concurrency } };
}

export function describeShard(shard: Shard): string {
  return shard.count === 1 ? '' : ` (task ${shard.index} of ${shard.count})`;
}

/** Seams for tests: fakes are allowed at our own ports. */
export interface BackfillCommandOverrides {
  /** Wraps the replicate deps built from the config (e.g. a Source whose read fails for one object). */
  wrapDeps?: (deps: ReplicateDeps) => ReplicateDeps;
}

export const backfillCommand: Command = {
  summary: 'copy every object under a prefix that S3 lacks or holds stale',
  usage: `Usage: gcs2s3 backfill gs://BUCKET[/PREFIX] [--dry-run] [--concurrency N] [--report FILE]

Copies every GCS object under PREFIX that S3 lacks or holds at an older
generation to s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT>, through the same
generation-guarded, CRC32C-verified copy as "gcs2s3 copy". Objects only in
S3 are left alone ("gcs2s3 verify" lists them).

How it decides, from a GCS listing and an S3 listing merged by name (no
HEAD per object; S3 listings carry no metadata, so no generation):
  not in S3                                      copy  (missing)
  S3 size differs from the GCS size              copy  (stale-size)
  S3 LastModified before the GCS timeCreated     copy  (stale-time)
  otherwise                                      skip  (current)
Blind spot: an S3 object of the same size written after the GCS generation
was created, but holding other bytes (an older generation copied late, or
another tool's write), counts as current; "gcs2s3 verify" finds it. A wrong
"stale" guess costs one HEAD, never a write: each copy checks the S3
object's gcs-generation first.

A run stopped part-way and started again copies only what is left: what it
wrote is newer than its source generation, so it is skipped.

Options:
  --dry-run          print what would be copied, one "gs://BUCKET/NAME<TAB>REASON"
                     line per object on stdout (logs go to stderr); copy nothing
  --concurrency N    objects copied at once, 1-1000 (default MAX_CONCURRENT_OBJECTS,
                     8); memory is at most N x PART_QUEUE_SIZE x PART_SIZE_MIB
  --report FILE      write a JSON summary (copied, skipped, failed with reasons,
                     bytes, duration) to FILE, atomically (FILE.tmp, then rename)

Cloud Run Jobs: with CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT set, this
task copies only the names whose SHA-256 hash mod COUNT is INDEX: the tasks
share the work without overlap. Each task still lists the whole prefix.

Progress: one rewritten line on stderr when it is a terminal, else a log
line every 10 s. One log line per copy attempted (copied, skipped by its
HEAD, or failed); objects the listings show current are logged at LOG_LEVEL=debug.
Logs go to stderr: readable text on a terminal, else JSON (LOG_FORMAT sets it).

Exit status: 0 every object copied or current; 1 some objects failed (listed
on stderr and in the report), a listing failed, or the run was interrupted;
2 bad usage or configuration (including a bucket that does not exist).`,
  run: (ctx) => runBackfillCommand(ctx),
};

/** `gcs2s3 backfill`, with optional test seams. Resolves to the exit code. */
export async function runBackfillCommand(ctx: CommandContext, overrides: BackfillCommandOverrides = {}): Promise<number> {
  const args = parsePrefixCommandArgs(ctx.args, { dryRun: true });
  const baseConfig = parseConfig(ctx.env, { command: 'backfill', instanceId: instanceIdFrom(ctx.env) });
  const shard = parseShard(ctx.env);
  if (args.reportFile !== undefined) await checkReportPath(args.reportFile);
  const concurrency = args.concurrency ?? baseConfig.transfer.maxConcurrentObjects;
  const config = withConcurrency(baseConfig, concurrency);
  const logger = await startObservability(ctx, config, { command: 'backfill', fields: shard.count === 1 ? {} : { shard: shard.index } });
  const runtime = buildRuntime(config, logger);
  // Every request in flight listens on the signal (the SDKs add one listener each): a
  // bounded number, but above Node's default warning threshold of 10.
  setMaxListeners(concurrency * (config.transfer.partQueueSize + 2) + 16, ctx.signal);
  const deps = overrides.wrapDeps ? overrides.wrapDeps(runtime.deps) : runtime.deps;
  const source = `gs://${args.bucket}/${args.prefix}`;
  const destination = `s3://${config.s3.bucket}/${config.s3.keyPrefix}${args.prefix}`;
  const tally = createTally();
  const progress = args.dryRun ? undefined : startProgress({ tally, tty: process.stderr.isTTY === true, write: ctx.stderr, logger });
  let result: BackfillResult;
  try {
    logger.info(`backfill ${source} → ${destination}${describeShard(shard)}${args.dryRun ? ' (dry run)' : ''}`, { via: 'backfill', source, destination, shard, concurrency, dryRun: args.dryRun });
    result = await runBackfill(
      {
        bucket: args.bucket,
        prefix: args.prefix,
        keyPrefix: config.s3.keyPrefix,
        sourceLister: new GcsLister(runtime.storage, { withResources: true }),
        sinkLister: runtime.destination.lister,
        copy: (event, signal, hints) => replicateObject(event, deps, signal, hints),
        concurrency,
        shard,
        dryRun: args.dryRun,
        tally,
        onDecision: (d) => {
          if (d.action === 'copy' && args.dryRun) ctx.stdout(`gs://${args.bucket}/${d.name}\t${d.reason}\n`);
          else if (d.action === 'skip') logger.debug(`current in S3: gs://${args.bucket}/${d.name}`, { via: 'backfill', object: `gs://${args.bucket}/${d.name}`, generation: d.object.generation, outcome: 'skipped', reason: 'current' });
        },
        onOutcome: ({ event, outcome, durationMs }) => logOutcome(logger, { event, outcome, durationMs, via: 'backfill' }),
      },
      ctx.signal,
    );
  } finally {
    progress?.stop();
    runtime.close();
  }

  const t = result.tally;
  const durationMs = Date.now() - t.startedAt;
  const skipped = t.current + Object.values(t.skippedByReason).reduce((a, b) => a + b, 0);
  const report = {
    command: 'backfill',
    source,
    destination,
    shard,
    dryRun: args.dryRun,
    startedAt: new Date(t.startedAt).toISOString(),
    finishedAt: new Date(t.startedAt + durationMs).toISOString(),
    durationMs,
    complete: result.complete,
    interrupted: result.interrupted,
    ...(result.error === undefined ? {} : { error: result.error.message }),
    listed: { gcs: t.listedGcs, s3: t.listedS3, otherShards: t.otherShards },
    planned: t.planned,
    copied: t.copied.objects,
    bytes: t.copied.bytes,
    skipped,
    skippedByReason: { current: t.current, ...t.skippedByReason },
    failed: t.failed,
    abandoned: t.abandoned,
    failures: t.failures,
    failuresOmitted: t.failuresOmitted,
    extraInS3: t.extraInS3,
  };
  logger.info(`backfill ${result.complete ? 'finished' : 'stopped'}: ${report.copied} copied, ${skipped} skipped, ${t.failed} failed`, { via: 'backfill', summary: { ...report, failures: undefined } });
  if (args.reportFile !== undefined) await writeReport(args.reportFile, report);

  const verb = args.dryRun ? 'would copy' : 'copied';
  const count = args.dryRun ? t.planned.objects : t.copied.objects;
  const bytes = args.dryRun ? t.planned.bytes : t.copied.bytes;
  ctx.stderr(`gcs2s3 backfill: ${verb} ${count} objects (${bytes} bytes), skipped ${skipped}, failed ${t.failed}, in ${(durationMs / 1000).toFixed(1)} s${describeShard(shard)}\n`);
  for (const f of t.failures.slice(0, MAX_FAILURES_PRINTED)) ctx.stderr(`  failed: ${f.object}#${f.generation ?? ''}: ${f.error}\n`);
  if (t.failed > MAX_FAILURES_PRINTED) ctx.stderr(`  … and ${t.failed - MAX_FAILURES_PRINTED} more${args.reportFile === undefined ? '' : ` (see ${args.reportFile})`}\n`);
  if (result.error !== undefined) ctx.stderr(`gcs2s3 backfill: stopped early: ${result.error.message}\n`);
  if (result.interrupted) ctx.stderr(`gcs2s3 backfill: interrupted (${t.abandoned} copies cut short); run it again to copy the rest\n`);
  // A bucket that does not exist is a usage error, not a failed object.
  if (result.error !== undefined && isMissingBucket(result.error)) return 2;
  return result.complete && t.failed === 0 ? 0 : 1;
}

/** GCS `notFound` on objects.list, S3 `NoSuchBucket` on ListObjectsV2: the bucket itself is missing. */
export function isMissingBucket(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'notFound' || code === 'NoSuchBucket';
}

/** Failures named on stderr; the report keeps up to 10,000. */
const MAX_FAILURES_PRINTED = 50;
