/**
 * Every environment variable gcs2s3 reads, declared once: its parser and
 * validator, default, limits, a one-line help, and which commands read or
 * require it. `parseConfig` walks this table; README's configuration tables and
 * each command's `--help` are generated from it (and a test keeps README current).
 */
import { parseShard, MAX_TASKS } from '../backfill/shard.js';
import { STS_MAX_DURATION_SECONDS, STS_MIN_DURATION_SECONDS } from '../credentials/sts-limits.js';
import { ConfigError } from '../errors.js';
import { parseBucketKey, parseKmsKeyId, parseRate, parseSse, parseStorageClass, S3_STORAGE_CLASSES } from './destination-settings.js';
import { S3_MAX_PART_BYTES, S3_MIN_PART_BYTES } from '../sink/part-size.js';
import { MIB } from '../units.js';
import {
  deriveSessionName,
  parseBoolean,
  parseGcsEndpoint,
  parseInteger,
  parseKeyPrefix,
  parseList,
  parseRegion,
  parseRoleArn,
  parseS3Bucket,
  parseSessionName,
  parseSubscription,
  parseUrl,
  readVar,
  isGcsBucketName,
} from './validators.js';

/** The commands of the `gcs2s3` binary. */
export type Command = 'copy' | 'pull' | 'serve' | 'backfill' | 'verify' | 'demo';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export type LogFormat = 'text' | 'json';
export type TraceExporter = 'none' | 'cloud-trace';

/** What a variable's parser may consult besides its own value. Pure: no process.env. */
export interface ReadContext {
  /** The variable actually read: the declared name, or the fallback that was set. Errors name it. */
  name: string;
  command: Command;
  /** Identifies this process (the default STS session name). */
  instanceId: string;
  /** Another declared variable's value, its fallbacks applied: trimmed, undefined when unset or empty. */
  read(name: string): string | undefined;
}

/** Commands that need a variable; `unless` names the setting that lifts the need. */
export interface Requirement {
  commands: readonly Command[];
  /** Completes "is required for COMMAND (…)". */
  why: string;
  unless?: { variable: string; value: string; why: string };
}

interface VariableDoc {
  /** One line for README and --help: what the value means. */
  help: string;
  /** The default as the docs show it (Markdown); absent for required variables. */
  default?: string;
  /** Accepted range, as the docs show it, e.g. `1–1000`. */
  limits?: string;
  /** Commands that act on the variable: their --help lists it. Every command validates every variable. */
  readBy: readonly Command[];
  /** Read, in order, when the variable itself is unset (AWS_DEFAULT_REGION for AWS_REGION). */
  fallbacks?: readonly string[];
  /** README table: the main one, or endpoints and emulators. */
  section: 'main' | 'endpoints';
}

/** A variable no command can run without. */
export interface AlwaysRequiredSpec<T> extends VariableDoc {
  required: 'always';
  /** Completes "is required …". */
  requiredWhy: string;
  parse(raw: string, ctx: ReadContext): T;
}

/** A variable with a default, or required by some commands only. */
export interface OptionalSpec<T> extends VariableDoc {
  required?: Requirement;
  /** `raw` is undefined when unset or empty: return the default. */
  parse(raw: string | undefined, ctx: ReadContext): T;
}

export type VariableSpec<T> = AlwaysRequiredSpec<T> | OptionalSpec<T>;
/** One row of the table, with its name. */
export type Variable = VariableSpec<unknown> & { name: string };

const always = <T>(doc: Omit<AlwaysRequiredSpec<T>, 'required' | 'parse'>, parse: AlwaysRequiredSpec<T>['parse']): AlwaysRequiredSpec<T> => ({ ...doc, required: 'always', parse });
const optional = <T>(doc: Omit<OptionalSpec<T>, 'parse'>, parse: OptionalSpec<T>['parse']): OptionalSpec<T> => ({ ...doc, parse });

/** A whole number in [min, max]: the limits are part of its documentation. */
function integer(doc: Omit<OptionalSpec<number>, 'parse' | 'default' | 'limits'>, fallback: number, min: number, max: number): OptionalSpec<number> {
  return optional({ ...doc, default: String(fallback), limits: `${min}–${max}` }, (raw, ctx) => parseInteger(ctx.name, raw, fallback, min, max));
}

const CLOUD: readonly Command[] = ['copy', 'pull', 'serve', 'backfill', 'verify'];
const WRITERS: readonly Command[] = ['copy', 'pull', 'serve', 'backfill'];
const POOLED: readonly Command[] = ['pull', 'serve', 'backfill', 'verify'];
const EVENTS: readonly Command[] = ['pull', 'serve'];
const PREFIX_JOBS: readonly Command[] = ['backfill', 'verify'];
const FILTERED: readonly Command[] = ['copy', 'pull', 'serve', 'backfill', 'verify'];

const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
/** Pub/Sub's longest ack deadline: past it a push has timed out on Pub/Sub's side and is redelivered anyway. */
const PUBSUB_MAX_ACK_DEADLINE_SECONDS = 600;
const PUSH_AUTH_OFF = { variable: 'PUSH_AUTH', value: 'disabled', why: 'for local use' };

const SPECS = {
  AWS_ROLE_ARN: always({ help: 'IAM role to assume with the Google ID token', requiredWhy: 'to obtain AWS credentials (no access keys are used)', readBy: CLOUD, section: 'main' }, (raw, ctx) => parseRoleArn(ctx.name, raw)),
  AWS_REGION: optional({ help: 'region of the bucket and the STS endpoint', default: '`us-east-1`', fallbacks: ['AWS_DEFAULT_REGION'], readBy: CLOUD, section: 'main' }, (raw, ctx) => parseRegion(ctx.name, raw ?? 'us-east-1')),
  S3_BUCKET: always({ help: 'destination bucket', requiredWhy: 'as the destination bucket', readBy: CLOUD, section: 'main' }, (raw, ctx) => parseS3Bucket(ctx.name, raw)),
  S3_KEY_PREFIX: optional(
    {
      help: 'prepended to the GCS object name to form the S3 key; `{bucket}` in it stands for the source bucket, and is required when `SOURCE_BUCKETS` lists several buckets',
      default: 'empty',
      readBy: CLOUD,
      section: 'main',
    },
    (raw, ctx) => parseKeyPrefix(ctx.name, raw, parseList(ctx.read('SOURCE_BUCKETS'))),
  ),
  ID_TOKEN_AUDIENCE: optional({ help: 'audience of the Google ID token (the `oaud` in the trust policy)', default: 'the value of `AWS_ROLE_ARN`', readBy: CLOUD, section: 'main' }, (raw) => raw),
  AWS_ROLE_SESSION_NAME: optional({ help: 'STS session name (2–64 of `[\\w+=,.@-]`)', default: '`gcs2s3-` + instance id', readBy: CLOUD, section: 'main' }, (raw, ctx) =>
    raw === undefined ? deriveSessionName(ctx.instanceId) : parseSessionName(ctx.name, raw),
  ),
  AWS_SESSION_DURATION_SECONDS: integer({ help: 'STS DurationSeconds: how long each set of credentials lasts', readBy: CLOUD, section: 'main' }, 3600, STS_MIN_DURATION_SECONDS, STS_MAX_DURATION_SECONDS),
  GOOGLE_CLOUD_PROJECT: optional({ help: 'Google Cloud project: completes a short `PUBSUB_SUBSCRIPTION`', default: 'none', fallbacks: ['GCLOUD_PROJECT'], readBy: CLOUD, section: 'main' }, (raw) => raw),
  PUBSUB_SUBSCRIPTION: optional(
    {
      help: 'subscription to pull: `projects/P/subscriptions/S`, or a short name with `GOOGLE_CLOUD_PROJECT`',
      required: { commands: ['pull'], why: 'projects/PROJECT/subscriptions/NAME, or a short name with GOOGLE_CLOUD_PROJECT' },
      readBy: ['pull'],
      section: 'main',
    },
    (raw, ctx) => parseSubscription(ctx.name, raw, ctx.read('GOOGLE_CLOUD_PROJECT')),
  ),
  PUSH_AUTH: optional({ help: '`disabled` turns push token checks off (local use only; logs a warning)', default: '`enabled`', readBy: ['serve'], section: 'main' }, (raw, ctx) => {
    const value = raw?.toLowerCase() ?? 'enabled';
    if (value !== 'enabled' && value !== 'disabled') throw new ConfigError(ctx.name, `must be "enabled" or "disabled", got "${raw}"`);
    return value === 'disabled';
  }),
  PUSH_AUDIENCE: optional(
    {
      help: 'accepted `aud` of the push request\'s OIDC token (comma list)',
      required: { commands: ['serve'], why: "the audience of the push subscription's OIDC token", unless: PUSH_AUTH_OFF },
      readBy: ['serve'],
      section: 'main',
    },
    (raw, ctx) => {
      const audiences = parseList(raw);
      if (raw !== undefined && audiences.length === 0) throw new ConfigError(ctx.name, `lists no audience: "${raw}"`);
      return audiences;
    },
  ),
  PUSH_SERVICE_ACCOUNT: optional(
    {
      help: '`email` of the push request\'s OIDC token: the push subscription\'s service account',
      required: { commands: ['serve'], why: 'the service account the push subscription signs as', unless: PUSH_AUTH_OFF },
      readBy: ['serve'],
      section: 'main',
    },
    (raw, ctx) => {
      if (raw !== undefined && !/^[^@\s]+@[^@\s]+$/.test(raw)) throw new ConfigError(ctx.name, `must be a service account email, got "${raw}"`);
      return raw;
    },
  ),
  PUSH_OIDC_ISSUER: optional({ help: 'accepted `iss` of push tokens (comma list)', default: "Google's (`https://accounts.google.com`)", readBy: ['serve'], section: 'main' }, (raw) => {
    const issuers = parseList(raw);
    return issuers.length === 0 ? GOOGLE_ISSUERS : issuers;
  }),
  PUSH_JWKS_URL: optional({ help: "where the push token issuer's signing keys are", default: "Google's certificates", readBy: ['serve'], section: 'main' }, (raw, ctx) =>
    parseUrl(ctx.name, raw)?.toString() ?? GOOGLE_JWKS,
  ),
  PUSH_REQUEST_TIMEOUT_SECONDS: integer({ help: "a push request's copy is aborted after this long", readBy: ['serve'], section: 'main' }, PUBSUB_MAX_ACK_DEADLINE_SECONDS, 1, 3600),
  PORT: integer({ help: '`serve` listens on it; `pull` answers `GET /healthz` on it when set, as Cloud Run services need', readBy: EVENTS, section: 'main' }, 8080, 1, 65535),
  SOURCE_BUCKETS: optional({ help: 'comma list of GCS buckets to replicate; events from others are acked and ignored, commands refuse them', default: 'all', readBy: FILTERED, section: 'main' }, (raw, ctx) => {
    const buckets = parseList(raw);
    // Bucket names never hold "/" or ":": the likely mistake is a gs:// URL.
    const bad = buckets.find((b) => /[/:]/.test(b));
    if (bad !== undefined) throw new ConfigError(ctx.name, `lists "${bad}": give bucket names, not gs:// URLs`);
    return buckets;
  }),
  INCLUDE_PREFIXES: optional({ help: 'comma list: only object names starting with one of these are replicated (`--include` overrides)', default: 'all', readBy: FILTERED, section: 'main' }, (raw) => parseList(raw)),
  EXCLUDE_PREFIXES: optional({ help: 'comma list: object names starting with one of these are not replicated; wins over include (`--exclude` overrides)', default: 'none', readBy: FILTERED, section: 'main' }, (raw) => parseList(raw)),
  REPLICATE_DELETES: optional({ help: '`true`: an OBJECT_DELETE removes the S3 object (only if S3 holds that generation or an older one)', default: '`false`', readBy: EVENTS, section: 'main' }, (raw, ctx) =>
    parseBoolean(ctx.name, raw, false),
  ),
  S3_STORAGE_CLASS: optional(
    {
      help: `storage class of every object written (PUT, multipart and in-place metadata copies): one of ${S3_STORAGE_CLASSES.map((c) => `\`${c}\``).join(', ')}`,
      default: "S3's (`STANDARD`)",
      readBy: WRITERS,
      section: 'main',
    },
    (raw, ctx) => parseStorageClass(ctx.name, raw),
  ),
  S3_SSE: optional({ help: 'server-side encryption of every object written: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS)', default: "the bucket's default encryption", readBy: WRITERS, section: 'main' }, (raw, ctx) =>
    parseSse(ctx.name, raw),
  ),
  S3_SSE_KMS_KEY_ID: optional({ help: 'KMS key (id, ARN or alias) for `S3_SSE=aws:kms`; only with it', default: "the bucket's default key, else `aws/s3`", readBy: WRITERS, section: 'main' }, (raw, ctx) =>
    parseKmsKeyId(ctx.name, raw, ctx.read('S3_SSE')),
  ),
  S3_SSE_BUCKET_KEY: optional({ help: '`true`/`false`: SSE-KMS with an S3 Bucket Key (fewer KMS calls); only with `S3_SSE=aws:kms`', default: "the bucket's setting", readBy: WRITERS, section: 'main' }, (raw, ctx) =>
    parseBucketKey(ctx.name, raw, ctx.read('S3_SSE'), (value) => parseBoolean(ctx.name, value, false)),
  ),
  MAX_BYTES_PER_SECOND: optional(
    {
      help: 'bytes per second read from GCS by all copies of the process together: a number of bytes, or with a binary suffix (`512K`, `10M`, `1G`); `backfill --bwlimit` overrides it',
      default: 'no limit',
      readBy: WRITERS,
      section: 'main',
    },
    (raw, ctx) => parseRate(ctx.name, raw, 1),
  ),
  MAX_CONCURRENT_OBJECTS: integer({ help: 'objects copied at once per process; `verify` sends 4 times as many HEADs', readBy: POOLED, section: 'main' }, 8, 1, 1000),
  PART_SIZE_MIB: integer({ help: 'multipart part size in MiB, grown for objects over 9,999 parts', readBy: WRITERS, section: 'main' }, 16, S3_MIN_PART_BYTES / MIB, S3_MAX_PART_BYTES / MIB),
  PART_QUEUE_SIZE: integer({ help: 'parts in flight per object: memory is at most this × part size per object', readBy: WRITERS, section: 'main' }, 4, 1, 64),
  CONNECT_TIMEOUT_SECONDS: integer({ help: 'a connection to S3, STS, GCS or the metadata server that is not up within this is abandoned, and the request retried', readBy: CLOUD, section: 'main' }, 10, 1, 300),
  STALL_TIMEOUT_SECONDS: integer({ help: 'a request or stream that moves no byte for this long is aborted with a transient error naming the service, operation and endpoint', readBy: CLOUD, section: 'main' }, 20, 1, 3600),
  LIVENESS_TIMEOUT_SECONDS: integer({ help: '`GET /healthz` answers 503 once copies have been in flight this long with none finishing and no byte read', readBy: EVENTS, section: 'main' }, 600, 1, 86400),
  CLOUD_RUN_TASK_COUNT: optional({ help: 'set by Cloud Run Jobs: the number of tasks sharing the names', default: '1', limits: `1–${MAX_TASKS.toLocaleString('en-US')}`, readBy: PREFIX_JOBS, section: 'main' }, (raw, ctx) =>
    parseShard({ CLOUD_RUN_TASK_COUNT: raw, CLOUD_RUN_TASK_INDEX: ctx.read('CLOUD_RUN_TASK_INDEX') }).count,
  ),
  CLOUD_RUN_TASK_INDEX: optional({ help: "set by Cloud Run Jobs: this task's share is the pair of ranges numbered this when the prefix is cut into 2 × count ranges", default: '0', limits: '0–count−1', readBy: PREFIX_JOBS, section: 'main' }, (raw, ctx) =>
    parseShard({ CLOUD_RUN_TASK_INDEX: raw, CLOUD_RUN_TASK_COUNT: ctx.read('CLOUD_RUN_TASK_COUNT') }).index,
  ),
  PLAN_BUCKET: optional(
    {
      help: 'GCS bucket where the tasks of one execution share one range plan (`CLOUD_RUN_JOB/CLOUD_RUN_EXECUTION/plan.json`): task 0 samples the prefix once, the others read its plan; unset, every task samples alike',
      default: 'none',
      readBy: PREFIX_JOBS,
      section: 'main',
    },
    (raw, ctx) => {
      if (raw !== undefined && !isGcsBucketName(raw)) throw new ConfigError(ctx.name, `must be a GCS bucket name (3-222 of a-z 0-9 _ . -), got "${raw}"`);
      return raw;
    },
  ),
  CLOUD_RUN_JOB: optional({ help: 'set by Cloud Run Jobs: the job name; names the shared plan with `PLAN_BUCKET`', default: 'none', readBy: PREFIX_JOBS, section: 'main' }, (raw, ctx) => parsePlanPathPart(ctx, raw)),
  CLOUD_RUN_EXECUTION: optional({ help: 'set by Cloud Run Jobs: the execution name; names the shared plan with `PLAN_BUCKET`', default: 'none', readBy: PREFIX_JOBS, section: 'main' }, (raw, ctx) =>
    parsePlanPathPart(ctx, raw),
  ),
  LOG_LEVEL: optional({ help: 'least severe log lines written: `debug`, `info`, `warn` or `error`', default: '`info`', readBy: CLOUD, section: 'main' }, (raw, ctx) => {
    const level = (raw ?? 'info').toLowerCase() as LogLevel;
    if (!LOG_LEVELS.includes(level)) throw new ConfigError(ctx.name, `must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
    return level;
  }),
  LOG_FORMAT: optional({ help: '`text` or `json`', default: 'text on a terminal for CLI commands, else JSON; `pull` and `serve` JSON', readBy: CLOUD, section: 'main' }, (raw, ctx) => {
    const format = raw?.toLowerCase();
    if (format !== undefined && format !== 'text' && format !== 'json') throw new ConfigError(ctx.name, `must be "text" or "json", got "${raw}"`);
    return format as LogFormat | undefined;
  }),
  TRACE_EXPORTER: optional({ help: '`cloud-trace`: spans of each copy (GCS read, STS call, S3 upload) go to Cloud Trace', default: '`none`', readBy: CLOUD, section: 'main' }, (raw, ctx) => {
    const exporter = (raw ?? 'none').toLowerCase();
    if (exporter !== 'none' && exporter !== 'cloud-trace') throw new ConfigError(ctx.name, `must be "cloud-trace" or "none", got "${raw}"`);
    return exporter as TraceExporter;
  }),
  AWS_ENDPOINT_URL: optional({ help: 'endpoint for every AWS service (MinIO, a VPC endpoint)', default: "AWS's", readBy: CLOUD, section: 'endpoints' }, (raw, ctx) => parseUrl(ctx.name, raw)?.toString()),
  AWS_ENDPOINT_URL_S3: optional({ help: 'endpoint for S3 only', default: '`AWS_ENDPOINT_URL`', fallbacks: ['AWS_ENDPOINT_URL'], readBy: CLOUD, section: 'endpoints' }, (raw, ctx) => parseUrl(ctx.name, raw)?.toString()),
  AWS_ENDPOINT_URL_STS: optional({ help: 'endpoint for STS only', default: '`AWS_ENDPOINT_URL`', fallbacks: ['AWS_ENDPOINT_URL'], readBy: CLOUD, section: 'endpoints' }, (raw, ctx) => parseUrl(ctx.name, raw)?.toString()),
  S3_FORCE_PATH_STYLE: optional({ help: '`true`: path-style bucket addressing (MinIO)', default: '`false`', readBy: CLOUD, section: 'endpoints' }, (raw, ctx) => parseBoolean(ctx.name, raw, false)),
  GCE_METADATA_HOST: optional({ help: 'the metadata server that mints Google ID tokens, `host:port`; google-auth-library reads it too', default: '`169.254.169.254`', fallbacks: ['GCE_METADATA_IP'], readBy: CLOUD, section: 'endpoints' }, (raw, ctx) =>
    parseGcsEndpoint(ctx.name, raw) ?? 'http://169.254.169.254',
  ),
  STORAGE_EMULATOR_HOST: optional({ help: 'a GCS emulator: `http://host:port`, or `host:port`', default: 'none (GCS)', readBy: CLOUD, section: 'endpoints' }, (raw, ctx) => parseGcsEndpoint(ctx.name, raw)),
} satisfies Record<string, VariableSpec<unknown>>;

/**
 * CLOUD_RUN_JOB or CLOUD_RUN_EXECUTION: one segment of the shared plan's object
 * name, so required by backfill and verify when PLAN_BUCKET is set for more than one task.
 */
function parsePlanPathPart(ctx: ReadContext, raw: string | undefined): string | undefined {
  const sharing = PREFIX_JOBS.includes(ctx.command) && ctx.read('PLAN_BUCKET') !== undefined && Number(ctx.read('CLOUD_RUN_TASK_COUNT') ?? '1') > 1;
  if (raw === undefined && sharing) throw new ConfigError(ctx.name, `is required with PLAN_BUCKET and CLOUD_RUN_TASK_COUNT > 1: it names the plan object the tasks share (Cloud Run Jobs sets it)`);
  if (raw !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(raw)) throw new ConfigError(ctx.name, `must be 1-100 of A-Z a-z 0-9 _ . - (a Cloud Run name), got "${raw}"`);
  return raw;
}

/** The parsed value of every variable, by name. */
export type VariableValues = { [K in keyof typeof SPECS]: ReturnType<(typeof SPECS)[K]['parse']> };

/** The table, in documentation order. */
export const VARIABLES: readonly Variable[] = Object.entries(SPECS).map(([name, spec]: [string, VariableSpec<unknown>]) => ({ name, ...spec }));

/** Names the table declares, fallbacks included: everything parseConfig reads. */
export function variableNames(): string[] {
  return VARIABLES.flatMap((v) => [v.name, ...(v.fallbacks ?? [])]);
}

/** Whether `command` refuses to start without `variable` (ignoring `unless`). */
export function isRequiredFor(variable: Variable, command: Command): boolean {
  return variable.required === 'always' || (variable.required?.commands.includes(command) ?? false);
}

export interface WalkOptions {
  command: Command;
  instanceId: string;
}

/**
 * Reads and validates every variable of the table, in table order, whatever
 * the command: a typo fails every command the same way. Throws a ConfigError
 * naming the variable at fault: the first malformed value, else the first
 * missing required one.
 */
export function readVariables(env: Record<string, string | undefined>, options: WalkOptions): VariableValues {
  const byName = new Map(VARIABLES.map((v) => [v.name, v]));
  const lookup = (name: string): { name: string; raw: string | undefined } => {
    for (const candidate of [name, ...(byName.get(name)?.fallbacks ?? [])]) {
      const raw = readVar(env, candidate);
      if (raw !== undefined) return { name: candidate, raw };
    }
    return { name, raw: undefined };
  };
  const values: Record<string, unknown> = {};
  let missing: ConfigError | undefined;
  for (const variable of VARIABLES) {
    const { name, raw } = lookup(variable.name);
    const ctx: ReadContext = { name, command: options.command, instanceId: options.instanceId, read: (other) => lookup(other).raw };
    const problem = raw === undefined ? missingRequirement(variable, ctx) : undefined;
    if (problem !== undefined) missing ??= new ConfigError(variable.name, problem);
    else if (variable.required === 'always') values[variable.name] = variable.parse(raw!, ctx);
    else values[variable.name] = variable.parse(raw, ctx);
  }
  if (missing !== undefined) throw missing;
  // Each value came from its own row's parser, so the record has the declared types.
  return values as VariableValues;
}

/** Why an unset variable stops this command, or undefined when it may be unset. */
function missingRequirement(variable: Variable, ctx: ReadContext): string | undefined {
  if (variable.required === 'always') return `is required ${variable.requiredWhy}`;
  const need = variable.required;
  if (need === undefined || !need.commands.includes(ctx.command)) return undefined;
  if (need.unless !== undefined && ctx.read(need.unless.variable)?.toLowerCase() === need.unless.value) return undefined;
  const unless = need.unless === undefined ? '' : `, or set ${need.unless.variable}=${need.unless.value} ${need.unless.why}`;
  return `is required for ${ctx.command} (${need.why})${unless}`;
}
