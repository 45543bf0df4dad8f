import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../../src/config/config.js';
import { environmentHelp, variablesMarkdown } from '../../../src/config/describe.js';
import { VARIABLES, type Command } from '../../../src/config/variables.js';
import { ConfigError } from '../../../src/errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/gcs2s3';
const base = { AWS_ROLE_ARN: ROLE, S3_BUCKET: 'dest-bucket' };
const MiB = 1024 * 1024;

interface Case {
  /** Where the variable lands in Config. */
  pick: (c: Config) => unknown;
  /** Its value when unset; `required` when no command runs without it. */
  unset: { value: unknown } | 'required';
  valid: [raw: string, parsed: unknown];
  /** A value it refuses, and what the message says; null when any value is accepted. */
  invalid: [raw: string, problem: RegExp] | null;
  /** Other variables the case needs (a task count beside a task index). */
  with?: Record<string, string>;
}

/** One row per variable of the table: the test below fails when a variable has none. */
const CASES: Record<string, Case> = {
  AWS_ROLE_ARN: { pick: (c) => c.aws.roleArn, unset: 'required', valid: ['arn:aws:iam::210987654321:role/r', 'arn:aws:iam::210987654321:role/r'], invalid: ['role/x', /IAM role ARN/] },
  AWS_REGION: { pick: (c) => c.aws.region, unset: { value: 'us-east-1' }, valid: ['eu-west-3', 'eu-west-3'], invalid: ['Not A Region', /not a region name/] },
  S3_BUCKET: { pick: (c) => c.s3.bucket, unset: 'required', valid: ['other-bucket', 'other-bucket'], invalid: ['Bad_Bucket', /S3 bucket name/] },
  S3_KEY_PREFIX: { pick: (c) => c.s3.keyPrefix, unset: { value: '' }, valid: ['from-gcs/{bucket}/', 'from-gcs/{bucket}/'], invalid: ['/abs', /must not start with "\/"/] },
  ID_TOKEN_AUDIENCE: { pick: (c) => c.idTokenAudience, unset: { value: ROLE }, valid: ['my-audience', 'my-audience'], invalid: null },
  AWS_ROLE_SESSION_NAME: { pick: (c) => c.aws.sessionName, unset: { value: 'gcs2s3-host-1' }, valid: ['custom@name', 'custom@name'], invalid: ['has space', /2-64 characters/] },
  AWS_SESSION_DURATION_SECONDS: { pick: (c) => c.aws.sessionDurationSeconds, unset: { value: 3600 }, valid: ['43200', 43200], invalid: ['600', /from 900 to 43200/] },
  GOOGLE_CLOUD_PROJECT: { pick: (c) => c.project, unset: { value: undefined }, valid: ['my-project', 'my-project'], invalid: null },
  PUBSUB_SUBSCRIPTION: { pick: (c) => c.pubsub.subscription, unset: { value: undefined }, valid: ['projects/p/subscriptions/s', 'projects/p/subscriptions/s'], invalid: ['projects/p/topics/t', /projects\/PROJECT\/subscriptions\/NAME/] },
  PUSH_AUTH: { pick: (c) => c.push.authDisabled, unset: { value: false }, valid: ['DISABLED', true], invalid: ['off', /"enabled" or "disabled"/] },
  PUSH_AUDIENCE: { pick: (c) => c.push.audiences, unset: { value: [] }, valid: ['https://a, https://b', ['https://a', 'https://b']], invalid: [' , ', /lists no audience/] },
  PUSH_SERVICE_ACCOUNT: { pick: (c) => c.push.serviceAccount, unset: { value: undefined }, valid: ['push@p.iam.gserviceaccount.com', 'push@p.iam.gserviceaccount.com'], invalid: ['push-sa', /service account email/] },
  PUSH_OIDC_ISSUER: { pick: (c) => c.push.issuers, unset: { value: ['https://accounts.google.com', 'accounts.google.com'] }, valid: ['http://127.0.0.1:8900', ['http://127.0.0.1:8900']], invalid: null },
  PUSH_JWKS_URL: { pick: (c) => c.push.jwksUrl, unset: { value: 'https://www.googleapis.com/oauth2/v3/certs' }, valid: ['http://127.0.0.1:8900/jwks', 'http://127.0.0.1:8900/jwks'], invalid: ['ftp://keys', /http\(s\) URL/] },
  PUSH_REQUEST_TIMEOUT_SECONDS: { pick: (c) => c.push.requestTimeoutSeconds, unset: { value: 600 }, valid: ['120', 120], invalid: ['0', /from 1 to 3600/] },
  PORT: { pick: (c) => c.push.port, unset: { value: 8080 }, valid: ['9090', 9090], invalid: ['70000', /from 1 to 65535/] },
  SOURCE_BUCKETS: { pick: (c) => c.filters.sourceBuckets, unset: { value: [] }, valid: ['a, b,,c', ['a', 'b', 'c']], invalid: ['gs://a', /bucket names, not gs:\/\/ URLs/], with: { S3_KEY_PREFIX: '{bucket}/' } },
  INCLUDE_PREFIXES: { pick: (c) => c.filters.includePrefixes, unset: { value: [] }, valid: ['logs/, img/', ['logs/', 'img/']], invalid: null },
  EXCLUDE_PREFIXES: { pick: (c) => c.filters.excludePrefixes, unset: { value: [] }, valid: ['tmp/', ['tmp/']], invalid: null },
  REPLICATE_DELETES: { pick: (c) => c.replicateDeletes, unset: { value: false }, valid: ['TRUE', true], invalid: ['maybe', /true or false/] },
  S3_STORAGE_CLASS: { pick: (c) => c.s3.settings.storageClass, unset: { value: undefined }, valid: ['standard_ia', 'STANDARD_IA'], invalid: ['COLD', /one of STANDARD/] },
  S3_SSE: { pick: (c) => c.s3.settings.sse, unset: { value: undefined }, valid: ['aes256', 'AES256'], invalid: ['SSE-C', /AES256 or aws:kms/] },
  S3_SSE_KMS_KEY_ID: { pick: (c) => c.s3.settings.kmsKeyId, unset: { value: undefined }, valid: ['alias/gcs2s3', 'alias/gcs2s3'], invalid: ['bad key', /KMS key id/], with: { S3_SSE: 'aws:kms' } },
  S3_SSE_BUCKET_KEY: { pick: (c) => c.s3.settings.bucketKey, unset: { value: undefined }, valid: ['false', false], invalid: ['maybe', /true or false/], with: { S3_SSE: 'aws:kms' } },
  MAX_BYTES_PER_SECOND: { pick: (c) => c.transfer.maxBytesPerSecond, unset: { value: undefined }, valid: ['4M', 4 * MiB], invalid: ['4 MB/s', /rate like 10M/] },
  MAX_CONCURRENT_OBJECTS: { pick: (c) => c.transfer.maxConcurrentObjects, unset: { value: 8 }, valid: ['1000', 1000], invalid: ['1001', /from 1 to 1000/] },
  PART_SIZE_MIB: { pick: (c) => c.transfer.partSizeBytes, unset: { value: 16 * MiB }, valid: ['5120', 5120 * MiB], invalid: ['4', /from 5 to 5120/] },
  PART_QUEUE_SIZE: { pick: (c) => c.transfer.partQueueSize, unset: { value: 4 }, valid: ['64', 64], invalid: ['0', /from 1 to 64/] },
  CONNECT_TIMEOUT_SECONDS: { pick: (c) => c.network.connectTimeoutMs, unset: { value: 10_000 }, valid: ['3', 3000], invalid: ['0', /from 1 to 300/] },
  STALL_TIMEOUT_SECONDS: { pick: (c) => c.network.stallTimeoutMs, unset: { value: 20_000 }, valid: ['7', 7000], invalid: ['2.5', /whole number/] },
  LIVENESS_TIMEOUT_SECONDS: { pick: (c) => c.network.livenessTimeoutMs, unset: { value: 600_000 }, valid: ['90', 90_000], invalid: ['100000', /from 1 to 86400/] },
  CLOUD_RUN_TASK_COUNT: { pick: (c) => c.shard.count, unset: { value: 1 }, valid: ['10000', 10000], invalid: ['10001', /from 1 to 10000/], with: { CLOUD_RUN_TASK_INDEX: '0' } },
  CLOUD_RUN_TASK_INDEX: { pick: (c) => c.shard.index, unset: { value: 0 }, valid: ['2', 2], invalid: ['3', /from 0 to 2/], with: { CLOUD_RUN_TASK_COUNT: '3' } },
  PLAN_BUCKET: {
    pick: (c) => c.sharedPlan,
    unset: { value: undefined },
    valid: ['plans_b', { bucket: 'plans_b', object: 'backfill/backfill-x7k2p/plan.json' }],
    invalid: ['gs://plans', /GCS bucket name/],
    with: { CLOUD_RUN_TASK_COUNT: '3', CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_JOB: 'backfill', CLOUD_RUN_EXECUTION: 'backfill-x7k2p' },
  },
  CLOUD_RUN_JOB: { pick: (c) => c.sharedPlan?.object, unset: { value: undefined }, valid: ['job-1', 'job-1/e/plan.json'], invalid: ['a/b', /Cloud Run name/], with: { PLAN_BUCKET: 'plans', CLOUD_RUN_TASK_COUNT: '2', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_EXECUTION: 'e' } },
  CLOUD_RUN_EXECUTION: { pick: (c) => c.sharedPlan?.object, unset: { value: undefined }, valid: ['job-1-abcde', 'j/job-1-abcde/plan.json'], invalid: ['..', /Cloud Run name/], with: { PLAN_BUCKET: 'plans', CLOUD_RUN_TASK_COUNT: '2', CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_JOB: 'j' } },
  LOG_LEVEL: { pick: (c) => c.logLevel, unset: { value: 'info' }, valid: ['DEBUG', 'debug'], invalid: ['verbose', /one of debug, info, warn, error/] },
  LOG_FORMAT: { pick: (c) => c.logFormat, unset: { value: undefined }, valid: ['JSON', 'json'], invalid: ['yaml', /"text" or "json"/] },
  TRACE_EXPORTER: { pick: (c) => c.traceExporter, unset: { value: 'none' }, valid: ['Cloud-Trace', 'cloud-trace'], invalid: ['jaeger', /"cloud-trace" or "none"/] },
  AWS_ENDPOINT_URL: { pick: (c) => [c.aws.s3Endpoint, c.aws.stsEndpoint], unset: { value: [undefined, undefined] }, valid: ['http://127.0.0.1:9000', ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000/']], invalid: ['not a url', /absolute http\(s\) URL/] },
  AWS_ENDPOINT_URL_S3: { pick: (c) => c.aws.s3Endpoint, unset: { value: undefined }, valid: ['http://s3.local:9000', 'http://s3.local:9000/'], invalid: ['ftp://s3', /http\(s\) URL/] },
  AWS_ENDPOINT_URL_STS: { pick: (c) => c.aws.stsEndpoint, unset: { value: undefined }, valid: ['https://sts.local', 'https://sts.local/'], invalid: ['sts.local', /absolute http\(s\) URL/] },
  S3_FORCE_PATH_STYLE: { pick: (c) => c.aws.s3ForcePathStyle, unset: { value: false }, valid: ['yes', true], invalid: ['sometimes', /true or false/] },
  GCE_METADATA_HOST: { pick: (c) => c.network.metadataServerUrl, unset: { value: 'http://169.254.169.254' }, valid: ['127.0.0.1:8900', 'http://127.0.0.1:8900'], invalid: ['bad host:1', /http\(s\) URL/] },
  STORAGE_EMULATOR_HOST: { pick: (c) => c.gcs.endpoint, unset: { value: undefined }, valid: ['127.0.0.1:4443', 'http://127.0.0.1:4443'], invalid: ['bad host:1', /http\(s\) URL/] },
};

const parse = (env: Record<string, string>, command: Command = 'copy'): Config => parseConfig(env, { command, instanceId: 'host-1' });

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError thrown');
}

const rows = Object.entries(CASES);

describe('the configuration table', () => {
  it('has a test case for every variable, and no case for a variable it lacks', () => {
    expect(Object.keys(CASES).sort()).toEqual(VARIABLES.map((v) => v.name).sort());
  });

  it.each(rows)('%s: unset gives its default, or is required', (name, c) => {
    // Without its companions: a task index alone is itself an error.
    const env: Record<string, string> = { ...base };
    delete env[name];
    if (c.unset === 'required') {
      const err = configErrorOf(() => parse(env));
      expect(err.setting).toBe(name);
      expect(err.message).toMatch(new RegExp(`^${name}: is required`));
    } else {
      expect(c.pick(parse(env))).toEqual(c.unset.value);
    }
  });

  it.each(rows)('%s: a valid value is read', (name, c) => {
    expect(c.pick(parse({ ...base, ...c.with, [name]: c.valid[0] }))).toEqual(c.valid[1]);
  });

  it.each(rows.filter(([, c]) => c.invalid !== null))('%s: an invalid value is a ConfigError naming it', (name, c) => {
    const [raw, problem] = c.invalid!;
    const err = configErrorOf(() => parse({ ...base, ...c.with, [name]: raw }));
    expect(err.setting).toBe(name);
    expect(err.message.startsWith(`${name}: `)).toBe(true);
    expect(err.message).toMatch(problem);
  });

  it('declares, for each variable, help, a default or a requirement, and the commands that read it', () => {
    for (const v of VARIABLES) {
      expect(v.help.length, v.name).toBeGreaterThan(10);
      expect(v.readBy.length, v.name).toBeGreaterThan(0);
      expect(v.required !== undefined || v.default !== undefined, v.name).toBe(true);
    }
  });

  it('takes its limits from the modules that own them', () => {
    const limits = Object.fromEntries(VARIABLES.map((v) => [v.name, v.limits]));
    expect(limits).toMatchObject({ PART_SIZE_MIB: '5–5120', AWS_SESSION_DURATION_SECONDS: '900–43200', CLOUD_RUN_TASK_COUNT: '1–10,000' });
  });
});

describe('fallbacks and rules across variables', () => {
  it.each<[Record<string, string>, (c: Config) => unknown, unknown]>([
    [{ AWS_DEFAULT_REGION: 'ap-south-1' }, (c) => c.aws.region, 'ap-south-1'],
    [{ AWS_DEFAULT_REGION: 'ap-south-1', AWS_REGION: 'eu-west-1' }, (c) => c.aws.region, 'eu-west-1'],
    [{ GCLOUD_PROJECT: 'old-name' }, (c) => c.project, 'old-name'],
    [{ PUBSUB_SUBSCRIPTION: 'sub', GCLOUD_PROJECT: 'p' }, (c) => c.pubsub.subscription, 'projects/p/subscriptions/sub'],
    [{ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'http://b:2' }, (c) => [c.aws.s3Endpoint, c.aws.stsEndpoint], ['http://a:1/', 'http://b:2/']],
    [{ GCE_METADATA_IP: '10.0.0.1' }, (c) => c.network.metadataServerUrl, 'http://10.0.0.1'],
  ])('%o', (env, pick, expected) => {
    expect(pick(parse({ ...base, ...env }))).toEqual(expected);
  });

  it.each<[Record<string, string>, Command, string, RegExp]>([
    [{ AWS_DEFAULT_REGION: 'Bad Region' }, 'copy', 'AWS_DEFAULT_REGION', /not a region name/],
    [{ AWS_ENDPOINT_URL: 'nope' }, 'copy', 'AWS_ENDPOINT_URL', /URL/],
    [{ CLOUD_RUN_TASK_COUNT: '3' }, 'backfill', 'CLOUD_RUN_TASK_INDEX', /required with CLOUD_RUN_TASK_COUNT/],
    [{ CLOUD_RUN_TASK_INDEX: '1' }, 'verify', 'CLOUD_RUN_TASK_COUNT', /required with CLOUD_RUN_TASK_INDEX/],
    [{ AWS_ROLE_ARN: '', PORT: 'x' }, 'copy', 'PORT', /whole number/],
    [{ PLAN_BUCKET: 'plans', CLOUD_RUN_TASK_COUNT: '4', CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_JOB: 'j' }, 'backfill', 'CLOUD_RUN_EXECUTION', /required with PLAN_BUCKET and CLOUD_RUN_TASK_COUNT > 1/],
    [{ PLAN_BUCKET: 'plans', CLOUD_RUN_TASK_COUNT: '4', CLOUD_RUN_TASK_INDEX: '1', CLOUD_RUN_EXECUTION: 'e' }, 'verify', 'CLOUD_RUN_JOB', /required with PLAN_BUCKET/],
    [{}, 'pull', 'PUBSUB_SUBSCRIPTION', /^PUBSUB_SUBSCRIPTION: is required for pull/],
    [{ PUBSUB_SUBSCRIPTION: 'short' }, 'pull', 'PUBSUB_SUBSCRIPTION', /set GOOGLE_CLOUD_PROJECT too/],
    [{}, 'serve', 'PUSH_AUDIENCE', /is required for serve .*, or set PUSH_AUTH=disabled/],
  ])('%o for %s: names %s', (env, command, setting, problem) => {
    const err = configErrorOf(() => parse({ ...base, ...env }, command));
    expect(err.setting).toBe(setting);
    expect(err.message).toMatch(problem);
  });

  it('serve needs no push settings when PUSH_AUTH=disabled', () => {
    expect(parse({ ...base, PUSH_AUTH: 'disabled' }, 'serve').push.authDisabled).toBe(true);
  });
});

describe('documentation generated from the table', () => {
  it.each<Command>(['copy', 'pull', 'serve', 'backfill', 'verify'])('%s --help lists exactly the variables it reads', (command) => {
    const help = environmentHelp(command);
    for (const v of VARIABLES) {
      const listed = new RegExp(`^  ${v.name} `, 'm').test(help);
      expect(listed, v.name).toBe(v.readBy.includes(command));
    }
  });

  it('shows each default or requirement, plainly', () => {
    expect(environmentHelp('serve')).toMatch(/^ {2}PUSH_AUDIENCE +.*; required for serve unless PUSH_AUTH=disabled$/m);
    expect(environmentHelp('pull')).toMatch(/^ {2}MAX_CONCURRENT_OBJECTS +.*\(1–1000\); 8$/m);
    expect(environmentHelp('demo')).toMatch(/none read/);
  });

  it('README rows: one per variable of a section, every cell filled', () => {
    const main = variablesMarkdown('main').split('\n');
    const endpoints = variablesMarkdown('endpoints').split('\n');
    expect(main.length - 2 + endpoints.length - 2).toBe(VARIABLES.length);
    for (const row of [...main.slice(2), ...endpoints.slice(2)]) expect(row).toMatch(/^\| `[A-Z0-9_]+` \| .+ \| .+ \| `[a-z]+`.* \|$/);
  });
});
