import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Duration, PubSub } from '@google-cloud/pubsub';
import { parseConfig, type Config } from '../config/config.js';
import { eventPolicyFromConfig } from '../events/types.js';
import { createLogger, teeLogger, type Logger } from '../log/logger.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import { runPullWorker, type MessageSource } from '../pull/pull-worker.js';
import { instanceIdFrom, parseCommandArgs, type Command, type CommandContext } from './command.js';
import { readEnvFile } from './env-file.js';
import { commandLogger } from './observability.js';
import { buildRuntime, type Runtime } from './runtime.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STACK_SCRIPT = resolve(ROOT, 'scripts/local-stack.sh');
const ENV_FILE = resolve(ROOT, '.local-stack/env');
const LOG_FILE = resolve(ROOT, '.local-stack/demo-worker.log');

export const demoCommand: Command = {
  usage: `Usage: gcs2s3 demo

Brings up the local stack (scripts/local-stack.sh up) or reuses it, runs the
pull worker on it, uploads sample objects to the emulated GCS bucket, and
shows each arriving in S3 (MinIO) with its checksum verified. Keeps running
so you can upload more; Ctrl-C stops the worker (the stack stays up:
scripts/local-stack.sh down stops it). The worker's JSON log goes to
.local-stack/demo-worker.log; its warnings and errors also to stderr.`,
  async run(ctx) {
    parseCommandArgs(ctx.args, {}, 0);
    const say = (text: string): void => ctx.stdout(`${text}\n`);
    say('gcs2s3 demo: GCS → Pub/Sub → worker → S3, with no AWS key anywhere.\n');
    const stack = await startStack(ctx, say);
    if (stack === undefined) return 2;

    // The libraries read their emulator variables from the process environment
    // (the storage one excepted, see src/cli.ts): set them for this process.
    ctx.setProcessEnv?.({ PUBSUB_EMULATOR_HOST: stack.PUBSUB_EMULATOR_HOST, GCE_METADATA_HOST: stack.GCE_METADATA_HOST, METADATA_SERVER_DETECTION: stack.METADATA_SERVER_DETECTION });
    const config = parseConfig({ ...stack, LOG_LEVEL: 'info', LOG_FORMAT: ctx.env.LOG_FORMAT }, { command: 'pull', instanceId: instanceIdFrom(ctx.env) });
    const { events, waiters, logger } = watchedLogger(ctx, config);
    const runtime = buildRuntime(config, logger);
    const pubsub = new PubSub({ projectId: config.project });
    // A subscription of the demo's own: only what is uploaded from now on.
    const [subscription] = await pubsub.topic(stack.PUBSUB_TOPIC!).createSubscription(`demo-${randomUUID().slice(0, 8)}`, { ackDeadlineSeconds: 60 });
    // Stops the worker on Ctrl-C, or when the demo itself fails.
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    ctx.signal.addEventListener('abort', onSignal, { once: true });
    subscription.setOptions({ flowControl: { maxMessages: config.transfer.maxConcurrentObjects, allowExcessMessages: false }, closeOptions: { behavior: 'WAIT', timeout: Duration.from({ seconds: 9 }) } });
    const worker = runPullWorker(
      {
        subscription: subscription as unknown as MessageSource,
        pipeline: new EventPipeline({ deps: runtime.deps, logger }),
        policy: eventPolicyFromConfig(config),
        logger,
      },
      stop.signal,
    );
    try {
      say(`2. Pull worker running on ${subscription.name}`);
      say(`   keyless: AWS credentials come from STS AssumeRoleWithWebIdentity on ${config.aws.roleArn},`);
      say(`   with Google-shaped ID tokens from the metadata server at ${stack.GCE_METADATA_HOST}\n`);
      say('3. Uploading sample objects to GCS, watching them arrive in S3:');
      await uploadSamples(runtime, stack.GCS_BUCKET!, events, waiters, say);
      say(`
4. Still running. Upload more and watch them arrive (Ctrl-C to stop):
   curl -X POST --data-binary @FILE -H 'Content-Type: text/plain' \\
     'http://127.0.0.1:4443/upload/storage/v1/b/${stack.GCS_BUCKET}/o?uploadType=media&name=demo/my-file.txt'
   Or copy one on demand (keyless):  set -a; . .local-stack/env; set +a; npx tsx src/cli.ts copy gs://${stack.GCS_BUCKET}/demo/my-file.txt
   Worker log (JSON, Cloud Logging shape): .local-stack/demo-worker.log
`);
      waiters.add(describeEachEvent(runtime, stack.GCS_BUCKET!, events, say));
      await worker;
      say('\nStopped. The local stack is still up; "bash scripts/local-stack.sh down" stops it.');
      return 0;
    } finally {
      stop.abort();
      ctx.signal.removeEventListener('abort', onSignal);
      await worker.catch(() => undefined);
      await subscription.delete().catch(() => undefined);
      await pubsub.close().catch(() => undefined);
      runtime.close();
    }
  },
};

type Say = (text: string) => void;
type Events = Array<Record<string, unknown>>;

/** Starts (or reuses) the local stack and reads its env file; undefined, with the reason on stderr, when it cannot start. */
async function startStack(ctx: CommandContext, say: Say): Promise<Record<string, string> | undefined> {
  say('1. Local stack (Pub/Sub emulator, fake-gcs-server, OIDC/metadata fixture, MinIO):');
  try {
    await promisify(execFile)('bash', [STACK_SCRIPT, 'up'], { cwd: ROOT });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    ctx.stderr(`gcs2s3 demo: the local stack did not start:\n${e.stderr ?? ''}${e.stdout ?? ''}\nRun "npm run setup" first if the emulators are not built.\n`);
    return undefined;
  }
  if (!existsSync(ENV_FILE)) throw new Error(`${ENV_FILE} is missing: the local stack did not write it`);
  const stack = readEnvFile(ENV_FILE);
  say(`   up. GCS bucket gs://${stack.GCS_BUCKET} → S3 bucket s3://${stack.S3_BUCKET} (MinIO at ${stack.AWS_ENDPOINT_URL_S3})\n`);
  return stack;
}

/**
 * The worker's logger: its whole log goes to LOG_FILE as JSON, and each
 * outcome line is kept in `events`, with `waiters` told of each (the demo
 * reads them back); its warnings and errors also reach stderr, readable on a
 * terminal.
 */
function watchedLogger(ctx: CommandContext, config: Config): { events: Events; waiters: Set<() => void>; logger: Logger } {
  const events: Events = [];
  const waiters = new Set<() => void>();
  const file = createLogger({
    level: 'info',
    write: (line) => {
      appendFileSync(LOG_FILE, line);
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.outcome !== undefined) {
        events.push(entry);
        for (const w of waiters) w();
      }
    },
  });
  const logger = teeLogger(file, commandLogger(ctx, { ...config, logLevel: 'warn' }, { command: 'demo' }));
  return { events, waiters, logger };
}

/** Uploads the samples to GCS and shows each one's arrival. */
async function uploadSamples(runtime: Runtime, gcsBucket: string, events: Events, waiters: Set<() => void>, say: Say): Promise<void> {
  const samples = sampleObjects();
  const bucket = runtime.storage.bucket(gcsBucket);
  for (const sample of samples) {
    await bucket.file(sample.name).save(sample.bytes, { resumable: false, validation: false, metadata: sample.metadata });
  }
  for (const sample of samples) {
    const line = await waitForOutcome(events, waiters, sample.name, 60_000);
    say(await describeArrival(runtime, sample.name, line));
  }
}

/** A waiter that says a line for every outcome logged from now on. */
function describeEachEvent(runtime: Runtime, gcsBucket: string, events: Events, say: Say): () => void {
  let seen = events.length;
  return () => {
    while (seen < events.length) {
      const e = events[seen++]!;
      const name = String(e.object ?? '').replace(`gs://${gcsBucket}/`, '');
      if (e.outcome === 'copied') void describeArrival(runtime, name, e).then(say);
      else if (e.outcome === 'failed') say(`   ✗ ${e.object}: ${(e.error as { message?: string } | undefined)?.message ?? 'failed'}`);
      else if (e.outcome !== 'ignored') say(`   · ${e.object}: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`);
    }
  };
}

interface Sample {
  name: string;
  bytes: Buffer;
  metadata: Record<string, unknown>;
}

function sampleObjects(): Sample[] {
  const run = new Date().toISOString().replace(/[:.]/g, '-');
  return [
    { name: `demo/${run}/hello.txt`, bytes: Buffer.from('Hello from Google Cloud Storage!\n'), metadata: { contentType: 'text/plain; charset=utf-8' } },
    { name: `demo/${run}/report.json.gz`, bytes: gzipSync(Buffer.from(JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => ({ i, sq: i * i })) }))), metadata: { contentType: 'application/json', contentEncoding: 'gzip' } },
    { name: `demo/${run}/données/café ☕.txt`, bytes: Buffer.from('Non-ASCII names work too.\n'), metadata: { contentType: 'text/plain', metadata: { team: 'platform', purpose: 'demo' } } },
    { name: `demo/${run}/big.bin`, bytes: randomBytes(40 * 1024 * 1024), metadata: { contentType: 'application/octet-stream' } },
  ];
}

function waitForOutcome(events: Array<Record<string, unknown>>, waiters: Set<() => void>, name: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = events.find((e) => String(e.object ?? '').endsWith(`/${name}`) && e.outcome !== 'failed');
      if (found) {
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`gs://…/${name} did not arrive in S3 within ${timeoutMs / 1000} s; see .local-stack/demo-worker.log`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
}

/** Reads the S3 copy back (keylessly) and checks S3's CRC32C against GCS's. */
async function describeArrival(runtime: Runtime, name: string, line: Record<string, unknown>): Promise<string> {
  const key = runtime.config.s3.keyPrefix + name;
  const head = await runtime.deps.sink.head(key, AbortSignal.timeout(30_000));
  if (head === undefined) return `   ✗ ${name} → ${runtime.destination.name}/${key}: not there`;
  const gcsCrc = head.crc32c;
  const verified = head.storedCrc32c !== undefined && head.storedCrc32c === gcsCrc;
  const lag = typeof line.lagSeconds === 'number' ? `, ${line.lagSeconds.toFixed(1)} s after upload` : '';
  return `   ${verified ? '✓' : '✗'} ${name} → ${runtime.destination.name}/${key}  ${head.size} bytes, generation ${head.generation}, CRC32C ${head.storedCrc32c} ${verified ? '= GCS (verified)' : `≠ GCS ${gcsCrc}`}${lag}`;
}
