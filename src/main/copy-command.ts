import { startTicker, type ProgressDisplay } from '../backfill/progress.js';
import { parseConfig } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { ObjectRef, Outcome } from '../model.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import type { ReplicateDeps } from '../replicate/replicate-object.js';
import { instanceIdFrom, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { countingSource, formatCopyProgress, type CopyProgress } from './copy-progress.js';
import { EXIT } from './exit-status.js';
import { ExcludedError, FILTER_FLAGS, FILTER_FLAGS_HELP, objectExclusion, policyWithFlags } from './filters.js';
import { parseObjectUrl } from './gs-url.js';
import { startObservability } from './observability.js';
import { buildRuntime } from './runtime.js';

export const copyCommand: Command = {
  usage: `Usage: gcs2s3 copy gs://BUCKET/OBJECT[#GENERATION] [--include PREFIX]... [--exclude PREFIX]...

Copies one GCS object (its live generation, or the one given) to
s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT> ({bucket} in the prefix replaced by
BUCKET), with its headers, metadata and provenance, verified by CRC32C
before the upload completes. A generation S3 already holds is not copied
again; if its metadata changed since, S3's copy is updated in place. An object
SOURCE_BUCKETS, INCLUDE_PREFIXES or EXCLUDE_PREFIXES leave out is not copied
(exit 3): the same rules as the pull and push workers.

Output: the result on stdout, one tab-separated line
  copied|updated|skipped  gs://BUCKET/OBJECT#GENERATION  s3://BUCKET/KEY  [REASON]
and the log on stderr (text on a terminal, else JSON; LOG_FORMAT sets it).
When stderr is a terminal and the copy takes more than a moment, one line
there shows the bytes read, the percentage, the rate and the time left.

Options:
${FILTER_FLAGS_HELP}`,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs(ctx.args, { ...FILTER_FLAGS }, 1);
    const url = positionals[0]!;
    const ref = parseObjectUrl(url, 'gs:// URL');
    const config = parseConfig(ctx.env, { command: 'copy', instanceId: instanceIdFrom(ctx.env) });
    const excluded = objectExclusion(ref.bucket, ref.name, policyWithFlags(config, values));
    if (excluded !== undefined) throw new ExcludedError(`${url}: not copied: ${excluded}`);
    const logger = await startObservability(ctx, config, { command: 'copy' });
    const runtime = buildRuntime(config, logger);
    const progress: CopyProgress = { doneBytes: 0 };
    const display = ctx.stderrIsTTY === true ? startCopyProgress(ctx, logger, url, progress) : undefined;
    // Counting costs a stream hop per chunk: only when someone watches.
    const deps: ReplicateDeps = display === undefined ? runtime.deps : { ...runtime.deps, source: countingSource(runtime.deps.source, progress) };
    let outcome: Outcome | undefined;
    try {
      const pipeline = new EventPipeline({ deps, logger });
      // The progress line ends before the outcome's log line is written below it.
      ({ outcome } = await pipeline.handle({ type: 'event', event: { kind: 'finalize', ref } }, { via: 'copy', signal: ctx.signal, settled: () => display?.stop() }));
    } finally {
      display?.stop();
      runtime.close();
    }
    if (outcome === undefined) return EXIT.failed;
    if (outcome.status !== 'failed') ctx.stdout(`${resultLine(outcome, ref, config.s3.bucket)}\n`);
    return exitStatus(ctx, outcome, url);
  },
};

function exitStatus(ctx: CommandContext, outcome: Outcome, url: string): number {
  if (outcome.status === 'copied' || outcome.status === 'updated') return EXIT.ok;
  if (outcome.status === 'skipped') {
    if (outcome.reason === 'already-current' || outcome.reason === 'newer-at-destination') return EXIT.ok;
    ctx.stderr(`gcs2s3 copy: ${describeMissing(outcome.reason, url)}\n`);
    return EXIT.failed;
  }
  if (outcome.status === 'failed') ctx.stderr(`gcs2s3 copy: ${outcome.error.message}\n`);
  return EXIT.failed;
}

/** One line on the terminal, redrawn every 250 ms; nothing at all for a copy quicker than that. */
function startCopyProgress(ctx: CommandContext, logger: Logger, url: string, progress: CopyProgress): ProgressDisplay {
  return startTicker({ tty: true, write: ctx.stderr, logger, lazy: true, render: () => ({ line: formatCopyProgress(url, progress), fields: {} }) });
}

/** The result on stdout, one tab-separated line: `copied|updated|skipped  gs://BUCKET/OBJECT#GENERATION  s3://BUCKET/KEY  [REASON]`. */
function resultLine(outcome: Exclude<Outcome, { status: 'failed' }>, ref: ObjectRef, bucket: string): string {
  const generation = outcome.generation === undefined ? '' : `#${outcome.generation}`;
  const reason = outcome.status === 'skipped' ? `\t${outcome.reason}` : '';
  return `${outcome.status}\tgs://${ref.bucket}/${ref.name}${generation}\ts3://${bucket}/${outcome.key}${reason}`;
}

function describeMissing(reason: string, url: string): string {
  if (reason === 'superseded') return `${url}: that generation no longer exists in GCS (a newer one replaced it)`;
  return `${url}: no such object in GCS`;
}
