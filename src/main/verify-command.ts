import { setMaxListeners } from 'node:events';
import { checkReportPath, writeReport } from '../backfill/report.js';
import { startTicker } from '../backfill/progress.js';
import { createVerifyResult, runVerify, type Difference, type VerifyResult } from '../backfill/run-verify.js';
import { parseShard } from '../backfill/shard.js';
import { parseConfig } from '../config/config.js';
import { createLogger, type Logger } from '../log/logger.js';
import { GcsLister } from '../source/gcs-lister.js';
import { describeShard, parsePrefixCommandArgs, withConcurrency } from './backfill-command.js';
import { instanceIdFrom, type Command } from './command.js';
import { serviceName, startObservability } from './observability.js';
import { buildRuntime } from './runtime.js';

/** HEADs are small: by default 4 per object the copy path may have in flight. */
const HEADS_PER_OBJECT_SLOT = 4;

export const verifyCommand: Command = {
  summary: 'compare GCS and S3 under a prefix; exit 1 on differences',
  usage: `Usage: gcs2s3 verify gs://BUCKET[/PREFIX] [--concurrency N] [--report FILE]

Compares the GCS objects under PREFIX with s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT>
and reports, one JSON log line each on stdout:
  missingInS3   GCS objects with no S3 object
  staleInS3     S3 holds an older generation (x-amz-meta-gcs-generation), or
                an object gcs2s3 did not write
  mismatched    same generation but another size or CRC32C (both values given)
  extraInS3     S3 objects under the prefix with no GCS object
Both buckets are listed and merged by name; every object present on both sides
is HEADed in S3 to read its provenance metadata. Nothing is written.

Options:
  --concurrency N    S3 HEADs at once, 1-1000 (default 4 x MAX_CONCURRENT_OBJECTS, 32)
  --report FILE      write a JSON summary (the four sets, counts, duration) to
                     FILE, atomically (FILE.tmp, then rename); each set lists at
                     most 10,000 entries, the counts are exact

Cloud Run Jobs: with CLOUD_RUN_TASK_INDEX and CLOUD_RUN_TASK_COUNT set, this task
checks only its share of the names (as backfill does).

Exit status: 0 in sync; 1 differences found; 2 error (bad usage or
configuration, a listing or a HEAD failed, or interrupted).`,
  async run(ctx) {
    const args = parsePrefixCommandArgs(ctx.args, { dryRun: false });
    const baseConfig = parseConfig(ctx.env, { command: 'verify', instanceId: instanceIdFrom(ctx.env) });
    const shard = parseShard(ctx.env);
    if (args.reportFile !== undefined) await checkReportPath(args.reportFile);
    const concurrency = args.concurrency ?? Math.min(baseConfig.transfer.maxConcurrentObjects * HEADS_PER_OBJECT_SLOT, 1000);
    const config = withConcurrency(baseConfig, concurrency);
    const fields = shard.count === 1 ? {} : { shard: shard.index };
    const logger = await startObservability(ctx, config, { command: 'verify', fields });
    // The differences are verify's result: JSON lines on stdout (in Cloud Logging's shape, so a Cloud Run job shows them as WARNING entries).
    const results = createLogger({ level: 'info', write: ctx.stdout, fields, traceProject: config.project, service: serviceName(ctx.env) });
    const runtime = buildRuntime(config, logger);
    // Every request in flight listens on the signal (the SDKs add one listener each): a
    // bounded number, but above Node's default warning threshold of 10.
    setMaxListeners(concurrency * (config.transfer.partQueueSize + 2) + 16, ctx.signal);
    const source = `gs://${args.bucket}/${args.prefix}`;
    const destination = `s3://${config.s3.bucket}/${config.s3.keyPrefix}${args.prefix}`;
    const started = Date.now();
    const live = createVerifyResult();
    const progress = startTicker({ tty: process.stderr.isTTY === true, write: ctx.stderr, logger, render: () => renderProgress(live, started) });
    let result: VerifyResult;
    try {
      logger.info(`verify ${source} against ${destination}${describeShard(shard)}`, { via: 'verify', source, destination, shard, concurrency });
      result = await runVerify(
        {
          bucket: args.bucket,
          prefix: args.prefix,
          keyPrefix: config.s3.keyPrefix,
          sourceLister: new GcsLister(runtime.storage),
          sinkLister: runtime.destination.lister,
          head: (key, signal) => runtime.deps.sink.head(key, signal),
          concurrency,
          shard,
          onDifference: (d) => logDifference(results, d),
          result: live,
        },
        ctx.signal,
      );
    } finally {
      progress.stop();
      runtime.close();
    }

    const durationMs = Date.now() - started;
    const differences = result.counts.missingInS3 + result.counts.staleInS3 + result.counts.mismatched + result.counts.extraInS3;
    const inSync = result.complete && differences === 0;
    const report = {
      command: 'verify',
      source,
      destination,
      shard,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(started + durationMs).toISOString(),
      durationMs,
      inSync,
      complete: result.complete,
      interrupted: result.interrupted,
      ...(result.error === undefined ? {} : { error: result.error.message }),
      listed: result.listed,
      counts: { inSync: result.inSync, ...result.counts },
      truncated: result.truncated,
      missingInS3: result.missingInS3,
      staleInS3: result.staleInS3,
      mismatched: result.mismatched,
      extraInS3: result.extraInS3,
      errors: result.errors,
    };
    logger.info(`verify ${inSync ? 'in sync' : 'finished'}: ${differences} differences`, { via: 'verify', summary: { ...report, missingInS3: undefined, staleInS3: undefined, mismatched: undefined, extraInS3: undefined, errors: undefined } });
    if (args.reportFile !== undefined) await writeReport(args.reportFile, report);

    const c = result.counts;
    ctx.stderr(
      `gcs2s3 verify: ${result.inSync} in sync; ${c.missingInS3} missing in S3, ${c.staleInS3} stale, ${c.mismatched} mismatched, ${c.extraInS3} extra in S3` +
        `${c.errors > 0 ? `, ${c.errors} could not be checked` : ''} (${(durationMs / 1000).toFixed(1)} s)${describeShard(shard)}\n`,
    );
    if (result.error !== undefined) ctx.stderr(`gcs2s3 verify: stopped early: ${result.error.message}\n`);
    for (const e of result.errors.slice(0, 20)) ctx.stderr(`  error: ${e.object}: ${e.error}\n`);
    if (!result.complete) return 2;
    return differences === 0 ? 0 : 1;
  },
};

function renderProgress(r: VerifyResult, started: number): { line: string; fields: Record<string, unknown> } {
  const c = r.counts;
  const n = (x: number): string => x.toLocaleString('en-US');
  const seconds = Math.round((Date.now() - started) / 1000);
  return {
    line: `verify: listed ${n(r.listed.gcs)} GCS / ${n(r.listed.s3)} S3 · ${n(r.inSync)} in sync · ${n(c.missingInS3)} missing · ${n(c.staleInS3)} stale · ${n(c.mismatched)} mismatched · ${n(c.extraInS3)} extra · ${seconds}s`,
    fields: { via: 'verify', progress: { listed: r.listed, inSync: r.inSync, ...c, elapsedSeconds: seconds } },
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
