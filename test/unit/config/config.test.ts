import { describe, expect, it } from 'vitest';
import { parseConfig, type Command } from '../../../src/config/config.js';
import { deriveSessionName } from '../../../src/config/validators.js';
import { ConfigError } from '../../../src/errors.js';

const base = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gcs2s3', S3_BUCKET: 'dest-bucket' };
const parse = (env: Record<string, string>, command: Command = 'copy') => parseConfig(env, { command, instanceId: 'host-1' });

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parse(base);
    expect(c.aws.region).toBe('us-east-1');
    expect(c.aws.sessionDurationSeconds).toBe(3600);
    expect(c.aws.sessionName).toBe('gcs2s3-host-1');
    expect(c.idTokenAudience).toBe(base.AWS_ROLE_ARN);
    expect(c.s3.keyPrefix).toBe('');
    expect(c.transfer).toEqual({ maxConcurrentObjects: 8, partSizeBytes: 16 * 1024 * 1024, partQueueSize: 4 });
    expect(c.replicateDeletes).toBe(false);
    expect(c.logLevel).toBe('info');
    expect(c.aws.s3Endpoint).toBeUndefined();
  });

  it.each([
    [{ AWS_REGION: 'eu-west-3' }, (c: ReturnType<typeof parse>) => c.aws.region, 'eu-west-3'],
    [{ S3_KEY_PREFIX: 'from-gcs/' }, (c: ReturnType<typeof parse>) => c.s3.keyPrefix, 'from-gcs/'],
    [{ S3_KEY_PREFIX: 'gcs/{bucket}/', SOURCE_BUCKETS: 'a,b' }, (c: ReturnType<typeof parse>) => c.s3.keyPrefix, 'gcs/{bucket}/'],
    [{ S3_KEY_PREFIX: 'one/', SOURCE_BUCKETS: 'only-one' }, (c: ReturnType<typeof parse>) => c.s3.keyPrefix, 'one/'],
    [{ ID_TOKEN_AUDIENCE: 'my-aud' }, (c: ReturnType<typeof parse>) => c.idTokenAudience, 'my-aud'],
    [{ AWS_ROLE_SESSION_NAME: 'custom@name' }, (c: ReturnType<typeof parse>) => c.aws.sessionName, 'custom@name'],
    [{ AWS_SESSION_DURATION_SECONDS: '900' }, (c: ReturnType<typeof parse>) => c.aws.sessionDurationSeconds, 900],
    [{ PART_SIZE_MIB: '5' }, (c: ReturnType<typeof parse>) => c.transfer.partSizeBytes, 5 * 1024 * 1024],
    [{ MAX_CONCURRENT_OBJECTS: '32' }, (c: ReturnType<typeof parse>) => c.transfer.maxConcurrentObjects, 32],
    [{ REPLICATE_DELETES: 'TRUE' }, (c: ReturnType<typeof parse>) => c.replicateDeletes, true],
    [{ SOURCE_BUCKETS: 'a, b,,c', S3_KEY_PREFIX: '{bucket}/' }, (c: ReturnType<typeof parse>) => c.filters.sourceBuckets, ['a', 'b', 'c']],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:9000' }, (c: ReturnType<typeof parse>) => [c.aws.s3Endpoint, c.aws.stsEndpoint], ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000/']],
    [{ AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_STS: 'http://b:2' }, (c: ReturnType<typeof parse>) => [c.aws.s3Endpoint, c.aws.stsEndpoint], ['http://a:1/', 'http://b:2/']],
    [{ AWS_ROLE_ARN: 'arn:minio:iam:::role/abc123' }, (c: ReturnType<typeof parse>) => c.aws.roleArn, 'arn:minio:iam:::role/abc123'],
    [{ AWS_ROLE_ARN: 'arn:aws-us-gov:iam::123456789012:role/path/to/r' }, (c: ReturnType<typeof parse>) => c.aws.roleArn, 'arn:aws-us-gov:iam::123456789012:role/path/to/r'],
    [{ PUSH_AUDIENCE: 'https://a, https://b' }, (c: ReturnType<typeof parse>) => c.push.audiences, ['https://a', 'https://b']],
    [{ PUSH_REQUEST_TIMEOUT_SECONDS: '120' }, (c: ReturnType<typeof parse>) => c.push.requestTimeoutSeconds, 120],
    [{ STORAGE_EMULATOR_HOST: '127.0.0.1:4443' }, (c: ReturnType<typeof parse>) => c.gcs.endpoint, 'http://127.0.0.1:4443'],
    [{ LOG_LEVEL: 'DEBUG' }, (c: ReturnType<typeof parse>) => c.logLevel, 'debug'],
    [{ PUBSUB_SUBSCRIPTION: 'sub', GOOGLE_CLOUD_PROJECT: 'p' }, (c: ReturnType<typeof parse>) => c.pubsub.subscription, 'projects/p/subscriptions/sub'],
    [{}, (c: ReturnType<typeof parse>) => [c.s3.settings, c.transfer.maxBytesPerSecond], [{}, undefined]],
    [{ S3_STORAGE_CLASS: 'deep_archive' }, (c: ReturnType<typeof parse>) => c.s3.settings.storageClass, 'DEEP_ARCHIVE'],
    [{ S3_STORAGE_CLASS: 'GLACIER_IR' }, (c: ReturnType<typeof parse>) => c.s3.settings.storageClass, 'GLACIER_IR'],
    [{ S3_SSE: 'AES256' }, (c: ReturnType<typeof parse>) => c.s3.settings, { sse: 'AES256' }],
    [
      { S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', S3_SSE_BUCKET_KEY: 'true' },
      (c: ReturnType<typeof parse>) => c.s3.settings,
      { sse: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', bucketKey: true },
    ],
    [{ S3_SSE: 'AWS:KMS', S3_SSE_KMS_KEY_ID: 'alias/gcs2s3' }, (c: ReturnType<typeof parse>) => c.s3.settings, { sse: 'aws:kms', kmsKeyId: 'alias/gcs2s3' }],
    [{ MAX_BYTES_PER_SECOND: '1048576' }, (c: ReturnType<typeof parse>) => c.transfer.maxBytesPerSecond, 1048576],
    [{ MAX_BYTES_PER_SECOND: '10M' }, (c: ReturnType<typeof parse>) => c.transfer.maxBytesPerSecond, 10 * 1048576],
    [{ MAX_BYTES_PER_SECOND: '1.5MiB' }, (c: ReturnType<typeof parse>) => c.transfer.maxBytesPerSecond, 1.5 * 1048576],
    [{ MAX_BYTES_PER_SECOND: 'off' }, (c: ReturnType<typeof parse>) => c.transfer.maxBytesPerSecond, undefined],
  ])('reads %o', (env, pick, expected) => {
    expect(pick(parse({ ...base, ...env } as Record<string, string>))).toEqual(expected);
  });

  it.each([
    [{ AWS_ROLE_ARN: '' }, 'copy', 'AWS_ROLE_ARN', /required/],
    [{ AWS_ROLE_ARN: 'role/x' }, 'copy', 'AWS_ROLE_ARN', /IAM role ARN/],
    [{ S3_BUCKET: '' }, 'copy', 'S3_BUCKET', /required/],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'copy', 'S3_BUCKET', /bucket name/],
    [{ AWS_SESSION_DURATION_SECONDS: '600' }, 'copy', 'AWS_SESSION_DURATION_SECONDS', /900 to 43200/],
    [{ AWS_SESSION_DURATION_SECONDS: '1h' }, 'copy', 'AWS_SESSION_DURATION_SECONDS', /whole number/],
    [{ AWS_ROLE_SESSION_NAME: 'has space' }, 'copy', 'AWS_ROLE_SESSION_NAME', /2-64/],
    [{ PART_SIZE_MIB: '4' }, 'copy', 'PART_SIZE_MIB', /5 to 5120/],
    [{ PART_QUEUE_SIZE: '0' }, 'copy', 'PART_QUEUE_SIZE', /1 to 64/],
    [{ MAX_CONCURRENT_OBJECTS: '-1' }, 'copy', 'MAX_CONCURRENT_OBJECTS', /whole number/],
    [{ REPLICATE_DELETES: 'maybe' }, 'copy', 'REPLICATE_DELETES', /true or false/],
    [{ LOG_LEVEL: 'verbose' }, 'copy', 'LOG_LEVEL', /one of/],
    [{ AWS_ENDPOINT_URL_S3: 'not a url' }, 'copy', 'AWS_ENDPOINT_URL_S3', /URL/],
    [{ S3_KEY_PREFIX: '/abs' }, 'copy', 'S3_KEY_PREFIX', /must not start/],
    [{ SOURCE_BUCKETS: 'bucket-a,bucket-b' }, 'pull', 'S3_KEY_PREFIX', /must contain \{bucket\} when SOURCE_BUCKETS lists several buckets/],
    [{ S3_KEY_PREFIX: 'x/', SOURCE_BUCKETS: 'bucket-a,bucket-b' }, 'copy', 'S3_KEY_PREFIX', /must contain \{bucket\}/],
    [{ S3_KEY_PREFIX: '{bukket}/' }, 'copy', 'S3_KEY_PREFIX', /one placeholder, \{bucket\}; got "\{bukket\}"/],
    [{}, 'pull', 'PUBSUB_SUBSCRIPTION', /required for pull/],
    [{ PUBSUB_SUBSCRIPTION: 'short' }, 'pull', 'PUBSUB_SUBSCRIPTION', /GOOGLE_CLOUD_PROJECT/],
    [{ PUBSUB_SUBSCRIPTION: 'projects/p/topics/t' }, 'pull', 'PUBSUB_SUBSCRIPTION', /projects\/PROJECT\/subscriptions/],
    [{}, 'serve', 'PUSH_AUDIENCE', /required for serve/],
    [{ PUSH_AUDIENCE: 'https://x' }, 'serve', 'PUSH_SERVICE_ACCOUNT', /required for serve/],
    [{ PUSH_AUTH: 'off' }, 'serve', 'PUSH_AUTH', /enabled" or "disabled/],
    [{ PORT: '70000' }, 'serve', 'PORT', /1 to 65535/],
    [{ PUSH_REQUEST_TIMEOUT_SECONDS: '0' }, 'serve', 'PUSH_REQUEST_TIMEOUT_SECONDS', /1 to 3600/],
    [{ S3_STORAGE_CLASS: 'COLD' }, 'copy', 'S3_STORAGE_CLASS', /one of STANDARD, .*DEEP_ARCHIVE.*, got "COLD"/],
    [{ S3_STORAGE_CLASS: 'GLACIER-IR' }, 'backfill', 'S3_STORAGE_CLASS', /got "GLACIER-IR"/],
    [{ S3_SSE: 'kms' }, 'copy', 'S3_SSE', /AES256 or aws:kms/],
    [{ S3_SSE_KMS_KEY_ID: 'alias/k' }, 'copy', 'S3_SSE_KMS_KEY_ID', /needs S3_SSE=aws:kms \(S3_SSE is unset\)/],
    [{ S3_SSE: 'AES256', S3_SSE_KMS_KEY_ID: 'alias/k' }, 'pull', 'S3_SSE_KMS_KEY_ID', /needs S3_SSE=aws:kms \(S3_SSE is "AES256"\)/],
    [{ S3_SSE: 'aws:kms', S3_SSE_KMS_KEY_ID: 'two words' }, 'copy', 'S3_SSE_KMS_KEY_ID', /KMS key id/],
    [{ S3_SSE_BUCKET_KEY: 'true' }, 'copy', 'S3_SSE_BUCKET_KEY', /needs S3_SSE=aws:kms/],
    [{ S3_SSE: 'aws:kms', S3_SSE_BUCKET_KEY: 'sometimes' }, 'copy', 'S3_SSE_BUCKET_KEY', /true or false/],
    [{ MAX_BYTES_PER_SECOND: '10 MB/s' }, 'backfill', 'MAX_BYTES_PER_SECOND', /rate like 10M/],
    [{ MAX_BYTES_PER_SECOND: '-5' }, 'backfill', 'MAX_BYTES_PER_SECOND', /rate like 10M/],
    [{ MAX_BYTES_PER_SECOND: '08:00,512k 18:00,off' }, 'backfill', 'MAX_BYTES_PER_SECOND', /rate like 10M/],
    [{ MAX_BYTES_PER_SECOND: '0.1' }, 'backfill', 'MAX_BYTES_PER_SECOND', /under 1 byte per second/],
  ] as const)('rejects %o for %s, naming %s', (env, command, setting, problem) => {
    let caught: unknown;
    try {
      parse({ ...base, ...env } as Record<string, string>, command);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe(setting);
    expect((caught as ConfigError).message).toMatch(problem);
    expect((caught as ConfigError).message.startsWith(`${setting}: `)).toBe(true);
  });

  it('serve needs no push settings when PUSH_AUTH=disabled', () => {
    expect(parse({ ...base, PUSH_AUTH: 'disabled' }, 'serve').push.authDisabled).toBe(true);
  });
});

describe('deriveSessionName', () => {
  it.each([
    ['host-1', 'gcs2s3-host-1'],
    ['gcs2s3-00042-abc-7', 'gcs2s3-gcs2s3-00042-abc-7'],
    ['a b/c:d', 'gcs2s3-a-b-c-d'],
    ['x'.repeat(100), `gcs2s3-${'x'.repeat(57)}`],
    ['ünïcode', 'gcs2s3--n-code'],
  ])('%s → %s', (id, name) => {
    const derived = deriveSessionName(id);
    expect(derived).toBe(name);
    expect(derived).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
