import { createVerifyResult, runVerify, type Difference, type VerifyResult } from '../backfill/run-verify.js';
import type { Logger } from '../log/logger.js';
import type { Command } from './command.js';
import { EXIT } from './exit-status.js';
import { FILTER_FLAGS_HELP } from './filters.js';
import {
  describeShard,
  finishPrefixRun,
  gcsLister,
  MAX_CONCURRENCY,
  openPrefixRun,
  reportHeader,
  startRunProgress,
  type PrefixRun,
} from './prefix-command.js';

/** HEADs are small: by default 4 per object the copy path may have in flight. */
const HEADS_PER_OBJECT_SLOT = 4;

export const verifyCommand: Command = {
  usage: `Usage: gcs2s3 verify gs://BUCKET[/PREFIX] [--concurrency N] [--report FILE]
                     [--include PREFIX]... [--exclude PREFIX]...

Compares the GCS objects under PREFIX with s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT>
and reports, one JSON log line each on stdout:
  missingInS3   GCS objects with no S3 object
  staleInS3     S3 holds an older generation (x-amz-meta-gcs-generation), or
                an object gcs2s3 did not write
  mismatched    same generation but another size, CRC32C, metageneration,
                copied header (Content-Type, Content-Encoding,
                Content-Disposition, Content-Language, Cache-Control) or
                custom metadata (both values given)
  extraInS3     S3 objects under the prefix with no GCS object
The summary also counts the multipart uploads in progress under the prefix
(uploadsInProgress: count, oldestInitiated), as information: uploads that
killed copies left behind show there until the next handling of their key or
the bucket's lifecycle rule removes them; they never change the exit status.
Both buckets are listed and merged by name; every object present on both sides
is HEADed in S3 to read its provenance metadata. Nothing is written. Names
INCLUDE_PREFIXES or EXCLUDE_PREFIXES (or the flags) leave out are not
compared: never missing, never extra.

Options:
  --concurrency N    S3 HEADs at once, 1-${MAX_CONCURRENCY} (default 4 x MAX_CONCURRENT_OBJECTS, 32)
  --report FILE      write a JSON summary (the four sets, counts, duration) to
                     FILE, atomically (FILE.tmp, then rename); each set lists at
                     most 10,000 entries, the counts are exact
${FILTER_FLAGS_HELP}

Cloud Run Jobs: with CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT set, this task
checks only its share of the names (as backfill does).`,
  async run(ctx) {
    const run = await openPrefixRun(ctx, {
      name: 'verify',
      dryRun: false,
      defaultConcurrency: (config) => Math.min(config.transfer.maxConcurrentObjects * HEADS_PER_OBJECT_SLOT, MAX_CONCURRENCY),
    });
    const { logger, runtime } = run;
    const live = createVerifyResult();
    const progress = startRunProgress(run, () => renderProgress(live, run.startedAt));
    let result: VerifyResult;
    try {
      logger.info(`verify ${run.source} against ${run.destination}${describeShard(run.config.shard)}`, {
        via: 'verify',
        source: run.source,
        destination: run.destination,
        shard: run.config.shard,
        concurrency: run.concurrency,
      });
      result = await runVerify(
        {
          ...run.listing,
          // Whole resources: headers and custom metadata are compared too.
          sourceLister: gcsLister(run, true),
          head: (key, signal) => runtime.deps.sink.head(key, signal),
          onDifference: (d) => logDifference(run.results, d),
          result: live,
        },
        ctx.signal,
      );
    } finally {
      progress.stop();
      runtime.close();
    }
    return finishVerify(run, result);
  },
};

/** Report, summary and exit status of a finished (or stopped) verify. */
async function finishVerify(run: PrefixRun, result: VerifyResult): Promise<number> {
  const c = result.counts;
  const differences = c.missingInS3 + c.staleInS3 + c.mismatched + c.extraInS3;
  const inSync = result.complete && differences === 0;
  const header = reportHeader(run);
  const { listedGcs, listedS3, otherShards, excluded } = result.listed;
  const report = {
    ...header,
    inSync,
    complete: result.complete,
    interrupted: result.interrupted,
    ...(result.error === undefined ? {} : { error: result.error.message }),
    listed: { gcs: listedGcs, s3: listedS3, otherShards, excluded },
    counts: { inSync: result.inSync, ...c },
    truncated: result.truncated,
    missingInS3: result.missingInS3,
    staleInS3: result.staleInS3,
    mismatched: result.mismatched,
    extraInS3: result.extraInS3,
    errors: result.errors,
    ...(result.uploadsInProgress === undefined ? {} : { uploadsInProgress: result.uploadsInProgress }),
  };
  const lines = [
    `gcs2s3 verify: ${result.inSync} in sync; ${c.missingInS3} missing in S3, ${c.staleInS3} stale, ${c.mismatched} mismatched, ${c.extraInS3} extra in S3` +
      `${excluded > 0 ? `; ${excluded} excluded by the filters` : ''}${c.errors > 0 ? `, ${c.errors} could not be checked` : ''} (${(header.durationMs / 1000).toFixed(1)} s)${describeShard(run.config.shard)}`,
  ];
  if (result.error !== undefined) lines.push(`gcs2s3 verify: stopped early: ${result.error.message}`);
  const uploads = describeUploads(result.uploadsInProgress);
  if (uploads !== undefined) lines.push(`gcs2s3 verify: ${uploads}`);
  for (const e of result.errors.slice(0, 20)) lines.push(`  error: ${e.object}: ${e.error}`);
  const fields = { ...report, missingInS3: undefined, staleInS3: undefined, mismatched: undefined, extraInS3: undefined, errors: undefined };
  await finishPrefixRun(run, { message: `verify ${inSync ? 'in sync' : 'finished'}: ${differences} differences`, fields }, report, lines);
  // diff(1)'s convention: 2 when the comparison could not finish (a missing bucket among them).
  if (!result.complete) return EXIT.usage;
  return differences === 0 ? EXIT.ok : EXIT.failed;
}

/** The summary's line on multipart uploads in progress (information: never a difference). */
function describeUploads(uploads: VerifyResult['uploadsInProgress']): string | undefined {
  if (uploads === undefined) return undefined;
  if ('error' in uploads) return `multipart uploads in progress could not be listed: ${uploads.error}`;
  const oldest = uploads.oldestInitiated === undefined ? '' : `, oldest started ${uploads.oldestInitiated}`;
  return `${uploads.count} multipart upload${uploads.count === 1 ? '' : 's'} in progress under the prefix${oldest}`;
}

function renderProgress(r: VerifyResult, started: number): { line: string; fields: Record<string, unknown> } {
  const c = r.counts;
  const n = (x: number): string => x.toLocaleString('en-US');
  const seconds = Math.round((Date.now() - started) / 1000);
  return {
    line: `verify: listed ${n(r.listed.listedGcs)} GCS / ${n(r.listed.listedS3)} S3 · ${n(r.inSync)} in sync · ${n(c.missingInS3)} missing · ${n(c.staleInS3)} stale · ${n(c.mismatched)} mismatched · ${n(c.extraInS3)} extra · ${seconds}s`,
    fields: { via: 'verify', progress: { listed: { gcs: r.listed.listedGcs, s3: r.listed.listedS3 }, inSync: r.inSync, ...c, elapsedSeconds: seconds } },
  };
}

function logDifference(logger: Logger, d: Difference): void {
  const fields = { via: 'verify', difference: d.kind, ...d, kind: undefined };
  switch (d.kind) {
    case 'missingInS3':
      logger.warn(`missing in S3: ${d.object}#${d.generation}`, fields);
      return;
    case 'staleInS3':
      logger.warn(`stale in S3: ${d.key} holds generation ${d.s3Generation ?? 'none'}, GCS has ${d.generation}`, fields);
      return;
    case 'mismatched':
      logger.warn(`mismatched: ${d.key}: ${d.mismatches.map((m) => `${m.field} GCS ${m.gcs} vs S3 ${m.s3}`).join(', ')}`, fields);
      return;
    case 'extraInS3':
      logger.warn(`extra in S3: ${d.key} has no GCS object`, fields);
      return;
  }
}
