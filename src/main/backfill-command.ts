import { runBackfill, type BackfillResult } from '../backfill/run-backfill.js';
import { startProgress } from '../backfill/progress.js';
import { createTally } from '../backfill/tally.js';
import type { ReplicateDeps } from '../replicate/replicate-object.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import type { Command, CommandContext } from './command.js';
import { EXIT } from './exit-status.js';
import { FILTER_FLAGS_HELP } from './filters.js';
import {
  describeShard,
  finishPrefixRun,
  gcsLister,
  isMissingBucket,
  MAX_CONCURRENCY,
  openPrefixRun,
  reportHeader,
  type PrefixRun,
} from './prefix-command.js';

/** Seams for tests: fakes are allowed at our own ports. */
export interface BackfillCommandOverrides {
  /** Wraps the replicate deps built from the config (e.g. a Source whose read fails for one object). */
  wrapDeps?: (deps: ReplicateDeps) => ReplicateDeps;
}

export const backfillCommand: Command = {
  usage: `Usage: gcs2s3 backfill gs://BUCKET[/PREFIX] [--dry-run] [--concurrency N] [--report FILE]
                       [--bwlimit RATE] [--include PREFIX]... [--exclude PREFIX]...

Copies every GCS object under PREFIX that S3 lacks or holds at an older
generation to s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT>, through the same
generation-guarded, CRC32C-verified copy as "gcs2s3 copy". Objects only in
S3 are left alone ("gcs2s3 verify" lists them). Names SOURCE_BUCKETS,
INCLUDE_PREFIXES or EXCLUDE_PREFIXES (or the flags) leave out are neither
copied nor counted as extra.

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
  --concurrency N    objects copied at once, 1-${MAX_CONCURRENCY} (default MAX_CONCURRENT_OBJECTS,
                     8); memory is at most N x PART_QUEUE_SIZE x PART_SIZE_MIB
  --bwlimit RATE     bytes per second read from GCS by all copies together, in
                     rclone's syntax: 10M = 10 MiB/s, 512K, 1G; a bare number is
                     KiB/s; off = no limit. Overrides MAX_BYTES_PER_SECOND
  --report FILE      write a JSON summary (copied, skipped, failed with reasons,
                     bytes, duration) to FILE, atomically (FILE.tmp, then rename)
${FILTER_FLAGS_HELP}

Cloud Run Jobs: with CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT set, every
task samples the prefix alike (32 to 160 list calls), cuts it into 2 x COUNT
contiguous ranges of names, and lists and copies only task INDEX's two (one
from each end of the order): the tasks share the work without overlap, and
none lists the others' names.

Progress: one rewritten line on stderr when it is a terminal, else a JSON log
line every 10 s; under a bandwidth limit it shows the rate of the last 5 s. One JSON log line per copy attempted (copied, skipped by its
HEAD, or failed); objects the listings show current are logged at LOG_LEVEL=debug.`,
  run: (ctx) => runBackfillCommand(ctx),
};

/** `gcs2s3 backfill`, with optional test seams. Resolves to the exit code. */
export async function runBackfillCommand(ctx: CommandContext, overrides: BackfillCommandOverrides = {}): Promise<number> {
  const run = await openPrefixRun(ctx, { name: 'backfill', dryRun: true, defaultConcurrency: (config) => config.transfer.maxConcurrentObjects });
  const { args, logger, runtime } = run;
  const deps = overrides.wrapDeps ? overrides.wrapDeps(runtime.deps) : runtime.deps;
  const pipeline = new EventPipeline({ deps, logger });
  const tally = createTally();
  const { limiter } = runtime;
  const limit = limiter === undefined ? undefined : { bytesPerSecond: limiter.bytesPerSecond, passed: () => limiter.passed };
  const progress = args.dryRun ? undefined : startProgress({ tally, tty: ctx.stderrIsTTY === true, write: ctx.stderr, logger, limit });
  let result: BackfillResult;
  try {
    logger.info(`backfill ${run.source} → ${run.destination}${describeShard(run.config.shard)}${args.dryRun ? ' (dry run)' : ''}`, {
      via: 'backfill',
      source: run.source,
      destination: run.destination,
      shard: run.config.shard,
      concurrency: run.concurrency,
      maxBytesPerSecond: run.config.transfer.maxBytesPerSecond,
      dryRun: args.dryRun,
    });
    result = await runBackfill(
      {
        ...run.listing,
        sourceLister: gcsLister(run, true),
        // The pipeline replicates and writes each copy's outcome line, as for every other way in.
        copy: async (event, signal, hints) => (await pipeline.handle({ type: 'event', event }, { via: 'backfill', signal, hints })).outcome!,
        dryRun: args.dryRun,
        tally,
        onDecision: (d) => {
          const object = `gs://${args.bucket}/${d.name}`;
          if (d.action === 'copy' && args.dryRun) ctx.stdout(`${object}\t${d.reason}\n`);
          else if (d.action === 'skip') logger.debug(`current in S3: ${object}`, { via: 'backfill', object, generation: d.object.generation, outcome: 'skipped', reason: 'current' });
        },
      },
      ctx.signal,
    );
  } finally {
    progress?.stop();
    runtime.close();
  }
  return finishBackfill(run, result);
}

/** Report, summary and exit status of a finished (or stopped) backfill. */
async function finishBackfill(run: PrefixRun, result: BackfillResult): Promise<number> {
  const t = result.tally;
  const { dryRun, reportFile } = run.args;
  const skipped = t.current + Object.values(t.skippedByReason).reduce((a, b) => a + b, 0);
  const header = reportHeader(run);
  const report = {
    ...header,
    dryRun,
    complete: result.complete,
    interrupted: result.interrupted,
    ...(result.error === undefined ? {} : { error: result.error.message }),
    listed: { gcs: t.listedGcs, s3: t.listedS3, otherShards: t.otherShards, excluded: t.excluded },
    planned: t.planned,
    copied: t.copied.objects,
    bytes: t.copied.bytes,
    updated: t.updated,
    skipped,
    skippedByReason: { current: t.current, ...t.skippedByReason },
    failed: t.failed,
    abandoned: t.abandoned,
    failures: t.failures,
    failuresOmitted: t.failuresOmitted,
    extraInS3: t.extraInS3,
  };
  const verb = dryRun ? 'would copy' : 'copied';
  const count = dryRun ? t.planned.objects : t.copied.objects;
  const bytes = dryRun ? t.planned.bytes : t.copied.bytes;
  const excluded = t.excluded > 0 ? `, excluded ${t.excluded}` : '';
  const updated = t.updated > 0 ? `, updated ${t.updated} in place (metadata)` : '';
  const lines = [`gcs2s3 backfill: ${verb} ${count} objects (${bytes} bytes)${updated}, skipped ${skipped}${excluded}, failed ${t.failed}, in ${(header.durationMs / 1000).toFixed(1)} s${describeShard(run.config.shard)}`];
  for (const f of t.failures.slice(0, MAX_FAILURES_PRINTED)) lines.push(`  failed: ${f.object}#${f.generation ?? ''}: ${f.error}`);
  if (t.failed > MAX_FAILURES_PRINTED) lines.push(`  … and ${t.failed - MAX_FAILURES_PRINTED} more${reportFile === undefined ? '' : ` (see ${reportFile})`}`);
  if (result.error !== undefined) lines.push(`gcs2s3 backfill: stopped early: ${result.error.message}`);
  if (result.interrupted) lines.push(`gcs2s3 backfill: interrupted (${t.abandoned} copies cut short); run it again to copy the rest`);
  const message = `backfill ${result.complete ? 'finished' : 'stopped'}: ${report.copied} copied, ${skipped} skipped, ${t.failed} failed`;
  await finishPrefixRun(run, { message, fields: { ...report, failures: undefined } }, report, lines);
  // A bucket that does not exist is a usage error, not a failed object.
  if (result.error !== undefined && isMissingBucket(result.error)) return EXIT.usage;
  return result.complete && t.failed === 0 ? EXIT.ok : EXIT.failed;
}

/** Failures named on stderr; the report keeps up to 10,000. */
const MAX_FAILURES_PRINTED = 50;
