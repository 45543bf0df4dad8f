import { parseConfig } from '../config/config.js';
import type { ObjectRef, Outcome } from '../model.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import { instanceIdFrom, parseCommandArgs, type Command } from './command.js';
import { parseObjectUrl } from './gs-url.js';
import { startObservability } from './observability.js';
import { buildRuntime } from './runtime.js';

export const copyCommand: Command = {
  summary: 'replicate one object now',
  usage: `Usage: gcs2s3 copy gs://BUCKET/OBJECT[#GENERATION]

Copies one GCS object (its live generation, or the one given) to
s3://$S3_BUCKET/$S3_KEY_PREFIX<OBJECT>, with its headers, metadata and
provenance, verified by CRC32C/MD5 before the upload completes.

Exit status: 0 copied or already current in S3; 1 failed, or the object
(or that generation) no longer exists in GCS; 2 bad usage or configuration.

Output: the result on stdout, one tab-separated line
  copied|skipped  gs://BUCKET/OBJECT#GENERATION  s3://BUCKET/KEY  [REASON]
and the log on stderr (text on a terminal, else JSON; LOG_FORMAT sets it).`,
  async run(ctx) {
    const { positionals } = parseCommandArgs(ctx.args, {}, 1);
    const ref = parseObjectUrl(positionals[0]!, 'gs:// URL');
    const config = parseConfig(ctx.env, { command: 'copy', instanceId: instanceIdFrom(ctx.env) });
    const logger = await startObservability(ctx, config, { command: 'copy' });
    const runtime = buildRuntime(config, logger);
    try {
      const pipeline = new EventPipeline({ deps: runtime.deps, logger });
      const { outcome } = await pipeline.handle({ type: 'event', event: { kind: 'finalize', ref } }, { via: 'copy', signal: ctx.signal });
      if (outcome === undefined) return 1;
      if (outcome.status !== 'failed') ctx.stdout(`${resultLine(outcome, ref, config.s3.bucket)}\n`);
      if (outcome.status === 'copied') return 0;
      if (outcome.status === 'skipped') {
        if (outcome.reason === 'already-current' || outcome.reason === 'newer-at-destination') return 0;
        ctx.stderr(`gcs2s3 copy: ${describeMissing(outcome.reason, positionals[0]!)}\n`);
        return 1;
      }
      if (outcome.status === 'failed') ctx.stderr(`gcs2s3 copy: ${outcome.error.message}\n`);
      return 1;
    } finally {
      runtime.close();
    }
  },
};

/** `copied<TAB>gs://b/o#gen<TAB>s3://bucket/key[<TAB>reason]`, for scripts. */
function resultLine(outcome: Exclude<Outcome, { status: 'failed' }>, ref: ObjectRef, bucket: string): string {
  const generation = outcome.generation === undefined ? '' : `#${outcome.generation}`;
  const reason = outcome.status === 'skipped' ? `\t${outcome.reason}` : '';
  return `${outcome.status}\tgs://${ref.bucket}/${ref.name}${generation}\ts3://${bucket}/${outcome.key}${reason}`;
}

function describeMissing(reason: string, url: string): string {
  if (reason === 'superseded') return `${url}: that generation no longer exists in GCS (a newer one replaced it)`;
  return `${url}: no such object in GCS`;
}
