/**
 * What `backfill` and `verify` share: their command line, their setup (config,
 * filters, report path, pool size, logger, clients), their progress display,
 * and the end of a run (summary log line, JSON report, lines on stderr).
 */
import { setMaxListeners } from 'node:events';
import { startTicker, type ProgressDisplay } from '../backfill/progress.js';
import { checkReportPath, writeReport } from '../backfill/report.js';
import type { Shard } from '../backfill/shard.js';
import { rangesOfTask } from '../backfill/key-range.js';
import { planRanges, type RangePlan } from '../backfill/range-planner.js';
import { obtainSharedPlan, PLAN_WAIT_MS } from '../backfill/shared-plan.js';
import { GcsPlanStore } from '../source/gcs-plan-store.js';
import type { Storage } from '@google-cloud/storage';
import { parseConfig, type Config } from '../config/config.js';
import { parseRate } from '../config/destination-settings.js';
import { parseInteger } from '../config/validators.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { SinkLister } from '../backfill/ports.js';
import { serviceName, startObservability } from './observability.js';
import { GcsLister } from '../source/gcs-lister.js';
import { instanceIdFrom, parseCommandArgs, type CommandContext } from './command.js';
import { excludedNames, ExcludedError, FILTER_FLAGS, policyWithFlags, prefixExclusion, type FilterFlags } from './filters.js';

import { parsePrefixUrl } from './gs-url.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { keyPrefixFor } from '../replicate/key-mapping.js';

/** The most objects (backfill) or HEADs (verify) at once: --concurrency's upper limit. */
export const MAX_CONCURRENCY = 1000;

/** What `backfill` and `verify` are asked to do, from their command lines. Pure. */
export interface PrefixCommandArgs extends FilterFlags {
  bucket: string;
  prefix: string;
  dryRun: boolean;
  /** --concurrency; undefined means the command's default. */
  concurrency?: number;
  /** --report FILE. */
  reportFile?: string;
  /** backfill --bwlimit RATE: bytes per second (`bytesPerSecond` undefined: `off`); absent: MAX_BYTES_PER_SECOND applies. */
  bwlimit?: { bytesPerSecond: number | undefined };
}

/** --bwlimit's bare numbers are KiB/s, as rclone's are. */
const BWLIMIT_UNIT = 1024;

export function parsePrefixCommandArgs(args: string[], options: { dryRun: boolean; bwlimit?: boolean }): PrefixCommandArgs {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      concurrency: { type: 'string' },
      report: { type: 'string' },
      ...FILTER_FLAGS,
      ...(options.dryRun ? { 'dry-run': { type: 'boolean' as const } } : {}),
      ...(options.bwlimit === true ? { bwlimit: { type: 'string' as const } } : {}),
    },
    1,
  );
  const { bucket, prefix } = parsePrefixUrl(positionals[0]!, 'gs:// URL');
  const raw = values as { concurrency?: string; report?: string; 'dry-run'?: boolean; bwlimit?: string } & FilterFlags;
  if (raw.report !== undefined && raw.report.trim() === '') throw new ConfigError('--report', 'needs a file name');
  return {
    bucket,
    prefix,
    dryRun: raw['dry-run'] === true,
    concurrency: raw.concurrency === undefined ? undefined : parseInteger('--concurrency', raw.concurrency, 1, 1, MAX_CONCURRENCY),
    reportFile: raw.report,
    ...(raw.bwlimit === undefined ? {} : { bwlimit: { bytesPerSecond: parseRate('--bwlimit', raw.bwlimit.trim() === '' ? ' ' : raw.bwlimit, BWLIMIT_UNIT) } }),
    include: raw.include,
    exclude: raw.exclude,
  };
}

/** Config with the transfer pool sized for `concurrency` (sockets follow it: see buildRuntime), and --bwlimit over MAX_BYTES_PER_SECOND. */
function withFlags(config: Config, concurrency: number, bwlimit: PrefixCommandArgs['bwlimit']): Config {
  const maxBytesPerSecond = bwlimit === undefined ? config.transfer.maxBytesPerSecond : bwlimit.bytesPerSecond;
  return { ...config, transfer: { ...config.transfer, maxConcurrentObjects: concurrency, maxBytesPerSecond } };
}

export function describeShard(shard: Shard): string {
  return shard.count === 1 ? '' : ` (task ${shard.index} of ${shard.count})`;
}

export interface PrefixCommandSpec {
  name: 'backfill' | 'verify';
  /** Accepts --dry-run. */
  dryRun: boolean;
  /** --concurrency when not given. */
  defaultConcurrency: (config: Config) => number;
}

/** One run of backfill or verify, set up and checked, its clients open. */
export interface PrefixRun {
  ctx: CommandContext;
  name: PrefixCommandSpec['name'];
  args: PrefixCommandArgs;
  config: Config;
  concurrency: number;
  /** Log lines, on stderr. */
  logger: Logger;
  /** The command's results as JSON lines in Cloud Logging's shape, on stdout (verify's differences). */
  results: Logger;
  runtime: Runtime;
  /** `gs://BUCKET/PREFIX` and `s3://S3_BUCKET/KEY_PREFIX+PREFIX`, for messages and the report. */
  source: string;
  destination: string;
  /** The shared fields of both commands' walk options. */
  listing: { bucket: string; prefix: string; keyPrefix: string; shard: Shard; concurrency: number; isExcluded: (name: string) => boolean; sinkLister: SinkLister };
  startedAt: number;
}

/**
 * Parses and checks everything before any network call: arguments,
 * configuration, filters (ExcludedError when they leave nothing to do), the
 * report's directory. Then builds the clients: call `closePrefixRun` after.
 */
export async function openPrefixRun(ctx: CommandContext, spec: PrefixCommandSpec): Promise<PrefixRun> {
  const args = parsePrefixCommandArgs(ctx.args, { dryRun: spec.dryRun, bwlimit: spec.name === 'backfill' });
  const baseConfig = parseConfig(ctx.env, { command: spec.name, instanceId: instanceIdFrom(ctx.env) });
  const policy = policyWithFlags(baseConfig, args);
  const excluded = prefixExclusion(args.bucket, args.prefix, policy);
  if (excluded !== undefined) throw new ExcludedError(`gs://${args.bucket}/${args.prefix}: nothing to ${spec.name}: ${excluded}`);
  if (args.reportFile !== undefined) await checkReportPath(args.reportFile);
  const concurrency = args.concurrency ?? spec.defaultConcurrency(baseConfig);
  const config = withFlags(baseConfig, concurrency, args.bwlimit);
  const keyPrefix = keyPrefixFor(config.s3.keyPrefix, args.bucket);
  const fields = config.shard.count === 1 ? {} : { shard: config.shard.index };
  // Logs go to stderr; stdout holds the command's results (a dry run's list, verify's differences).
  const logger = await startObservability(ctx, config, { command: spec.name, fields });
  const results = createLogger({ level: 'info', write: ctx.stdout, fields, traceProject: config.project, service: serviceName(ctx.env) });
  const runtime = buildRuntime(config, logger);
  // Every request in flight listens on the signal (the SDKs add one listener each): a
  // bounded number, but above Node's default warning threshold of 10.
  setMaxListeners(concurrency * (config.transfer.partQueueSize + 2) + 16, ctx.signal);
  let shard: Shard;
  try {
    shard = await planShard({ args, config, storage: runtime.storage }, logger, ctx.signal);
  } catch (err) {
    runtime.close();
    throw err;
  }
  return {
    ctx,
    name: spec.name,
    args,
    config: { ...config, shard },
    concurrency,
    logger,
    results,
    runtime,
    source: `gs://${args.bucket}/${args.prefix}`,
    destination: `s3://${config.s3.bucket}/${keyPrefix}${args.prefix}`,
    listing: {
      bucket: args.bucket,
      prefix: args.prefix,
      keyPrefix,
      shard,
      concurrency,
      isExcluded: excludedNames(args.bucket, policy),
      sinkLister: runtime.destination.lister,
    },
    startedAt: Date.now(),
  };
}

/**
 * This task's ranges of names. With PLAN_BUCKET, the execution's one shared
 * plan (shared-plan.ts); without, every task samples the prefix the same way
 * (range-planner.ts). Either way each task takes its own pieces, so each
 * lists only its ranges.
 */
async function planShard(run: { args: PrefixCommandArgs; config: Config; storage: Storage }, logger: Logger, signal: AbortSignal): Promise<Shard> {
  const { args, config } = run;
  const shard = config.shard;
  if (shard.count === 1) return shard;
  const prober = new GcsLister(run.storage);
  const compute = (s: AbortSignal): Promise<RangePlan> => planRanges({ bucket: args.bucket, prefix: args.prefix, count: shard.count, prober, shared: config.sharedPlan !== undefined }, s);
  let plan: RangePlan;
  let origin: Record<string, unknown> = { source: 'sampled' };
  if (config.sharedPlan === undefined) plan = await compute(signal);
  else {
    const store = new GcsPlanStore(run.storage, { ...config.sharedPlan, deadlineMs: config.network.stallTimeoutMs });
    const onWait = ({ attempt, waitedMs }: { attempt: number; waitedMs: number }): void =>
      logger[attempt === 1 ? 'info' : 'debug'](`task ${shard.index} waits for task 0's plan at ${store.location} (${Math.round(waitedMs / 1000)} s so far, up to ${PLAN_WAIT_MS / 60_000} min)`);
    const shared = await obtainSharedPlan({ store, identity: { bucket: args.bucket, prefix: args.prefix, taskCount: shard.count }, taskIndex: shard.index, compute, onWait }, signal);
    plan = shared.document;
    origin = { source: shared.source, writtenBy: shared.document.writtenBy, object: store.location, generation: shared.generation, createdAt: shared.document.createdAt };
  }
  const ranges = rangesOfTask(plan.boundaries, shard.count, shard.index);
  const described = ranges.map((r) => `from "${r.start ?? args.prefix}" to ${r.end === undefined ? 'the end' : `"${r.end}" (excluded)`}`);
  logger.info(`task ${shard.index} of ${shard.count} lists names ${described.length === 0 ? 'in no range (its pieces are empty)' : described.join(', then ')}`, {
    plan: { ...origin, ranges, pieces: plan.boundaries.length + 1, listCalls: plan.listCalls, estimatedObjects: plan.estimatedObjects, exact: plan.exact },
  });
  return { ...shard, ranges };
}

/** The GCS lister; backfill asks for whole resources (a copy then skips its metadata read). */
export function gcsLister(run: PrefixRun, withResources: boolean): GcsLister {
  return new GcsLister(run.runtime.storage, { withResources });
}

/** Progress on stderr: a rewritten line on a terminal, else a JSON log line every 10 s. */
export function startRunProgress(run: PrefixRun, render: () => { line: string; fields: Record<string, unknown> }): ProgressDisplay {
  return startTicker({ tty: run.ctx.stderrIsTTY === true, write: run.ctx.stderr, logger: run.logger, render });
}

/** The fields every report starts with. */
export function reportHeader(run: PrefixRun): Record<string, unknown> & { durationMs: number } {
  const durationMs = Date.now() - run.startedAt;
  return {
    command: run.name,
    source: run.source,
    destination: run.destination,
    shard: run.config.shard,
    ...(run.args.include === undefined && run.args.exclude === undefined ? {} : { filters: { include: run.args.include, exclude: run.args.exclude } }),
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.startedAt + durationMs).toISOString(),
    durationMs,
  };
}

/** The end of a run: the summary log line, the report file, then the human lines on stderr. */
export async function finishPrefixRun(run: PrefixRun, summary: { message: string; fields: Record<string, unknown> }, report: Record<string, unknown>, lines: string[]): Promise<void> {
  run.logger.info(summary.message, { via: run.name, summary: summary.fields });
  if (run.args.reportFile !== undefined) await writeReport(run.args.reportFile, report);
  for (const line of lines) run.ctx.stderr(`${line}\n`);
}

/** GCS `notFound` on objects.list, S3 `NoSuchBucket` on ListObjectsV2: the bucket itself is missing. */
export function isMissingBucket(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'notFound' || code === 'NoSuchBucket';
}
